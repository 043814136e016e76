import type { Migration } from '../migrate.js';

/**
 * Documents and their chunks with a full-text index. Vector tables are created per embedder by
 * retrieval/vectors.ts (their dimension depends on it); vec0 cannot be touched from a trigger
 * under trusted_schema=OFF, so vectors are deleted in code, in the same transaction.
 */
export const m0002Knowledge: Migration = {
  version: 2,
  name: 'documents, chunks, full-text index',
  up(db) {
    db.exec(`
      CREATE TABLE documents (
        id             INTEGER PRIMARY KEY,
        source_path    TEXT NOT NULL UNIQUE,
        title          TEXT NOT NULL,
        format         TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        bytes          INTEGER NOT NULL,
        tags           TEXT NOT NULL DEFAULT '[]',
        chunk_count    INTEGER NOT NULL,
        ingested_at    TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      ) STRICT;

      CREATE TABLE chunks (
        id           INTEGER PRIMARY KEY,
        document_id  INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal      INTEGER NOT NULL,
        text         TEXT NOT NULL,
        token_count  INTEGER NOT NULL,
        char_start   INTEGER NOT NULL,
        char_end     INTEGER NOT NULL,
        page         INTEGER,
        heading_path TEXT,
        sha256       TEXT NOT NULL,
        UNIQUE (document_id, ordinal)
      ) STRICT;

      -- Contentless: the text lives once, in chunks; the index holds the folded form that
      -- retrieval/fts.ts computes (so no SQL trigger could insert it). A trigger can delete.
      CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text,
        content = '',
        contentless_delete = 1,
        tokenize = "porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
      );
      CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab(chunks_fts, row);
      CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        DELETE FROM chunks_fts WHERE rowid = old.id;
      END;
      -- Document frequency per stem (and the chunk count under ''), see retrieval/term-stats.ts.
      CREATE TABLE term_stats (
        term TEXT PRIMARY KEY,
        df   INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER chunks_immutable BEFORE UPDATE ON chunks BEGIN
        SELECT RAISE(ABORT, 'chunks are immutable: delete and re-insert');
      END;
    `);
  },
};
