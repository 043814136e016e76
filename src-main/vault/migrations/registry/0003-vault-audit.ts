import type { Migration } from '../migrate.js';

/**
 * The vault's own audit chain (unlocks, presentation, vault-wide operations): its MAC key,
 * wrapped by the master key, and the latest (seq, hash), kept here so a cut tail is caught.
 */
export const m0003VaultAudit: Migration = {
  version: 3,
  name: 'vault audit head',
  up(db) {
    db.exec(`
      CREATE TABLE vault_audit (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        wrapped_key BLOB NOT NULL,
        head_seq    INTEGER NOT NULL DEFAULT 0,
        head_hash   TEXT
      ) STRICT;
    `);
  },
};
