import type { Migration } from '../migrate.js';

/**
 * Per tenant: its audit MAC key (wrapped by the master key, so it survives key rotation and
 * import) and the latest (seq, hash) of its audit chain, kept here so that cutting the tail of
 * the chain inside the tenant's file is detected.
 */
export const m0002AuditHeads: Migration = {
  version: 2,
  name: 'audit heads',
  up(db) {
    db.exec(`
      CREATE TABLE tenant_audit (
        tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        wrapped_key BLOB NOT NULL,
        head_seq    INTEGER NOT NULL DEFAULT 0,
        head_hash   TEXT
      ) STRICT;
    `);
  },
};
