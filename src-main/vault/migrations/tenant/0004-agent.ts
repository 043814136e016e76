import type { Migration } from '../migrate.js';

/**
 * The agent's tables: conversations and their messages, and the role a document plays in the
 * tenant's profile (its instructions or its brand voice). Everything here is tenant content and
 * lives in the tenant's own file.
 */
export const m0004Agent: Migration = {
  version: 4,
  name: 'conversations, messages, document roles',
  up(db) {
    db.exec(`
      CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY,
        title      TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content         TEXT NOT NULL,
        mode            TEXT CHECK (mode IN ('generated', 'retrieval-only')),
        citations       TEXT NOT NULL DEFAULT '[]',
        model           TEXT,
        manifest_hash   TEXT,
        created_at      TEXT NOT NULL,
        UNIQUE (conversation_id, seq)
      ) STRICT;

      CREATE TABLE document_roles (
        document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        role        TEXT NOT NULL CHECK (role IN ('instructions', 'voice'))
      ) STRICT;
    `);
  },
};
