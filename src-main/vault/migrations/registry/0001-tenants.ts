import type { Migration } from '../migrate.js';

export const m0001Tenants: Migration = {
  version: 1,
  name: 'tenants',
  up(db) {
    db.exec(`
      CREATE TABLE tenants (
        id           TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        name_key     TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        key_version  INTEGER NOT NULL,
        wrapped_key  BLOB NOT NULL
      ) STRICT;
    `);
  },
};
