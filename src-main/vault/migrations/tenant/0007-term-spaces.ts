import type { Migration } from '../migrate.js';

/**
 * The offline embedder's learnt term spaces (embed/term-space.ts): each model's bytes, named by
 * their SHA-256. Learnt from this tenant's own passages and kept in its own file, so they go with
 * it (export, backup) and nowhere else.
 */
export const m0007TermSpaces: Migration = {
  version: 7,
  name: 'learnt term spaces',
  up(db) {
    db.exec(`
      CREATE TABLE term_spaces (
        sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64),
        model      BLOB NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
    `);
  },
};
