import type { Migration } from '../migrate.js';

export const m0001Notes: Migration = {
  version: 1,
  name: 'tenant meta and notes',
  up(db) {
    db.exec(`
      CREATE TABLE tenant_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
      CREATE TABLE notes (
        id         INTEGER PRIMARY KEY,
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
    `);
  },
};
