import type { Migration } from '../migrate.js';

/**
 * The tenant's audit chain (see vault/audit-chain.ts): append-only by trigger, so no code path can
 * edit a record by mistake; whoever drops the triggers to tamper is caught by the MAC chain.
 */
export const m0003Audit: Migration = {
  version: 3,
  name: 'audit chain',
  up(db) {
    db.exec(`
      CREATE TABLE audit_log (
        seq  INTEGER PRIMARY KEY,
        at   TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit records are append-only');
      END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'audit records are append-only');
      END;
    `);
  },
};
