import type { Migration } from '../migrate.js';

/** The term index's tables, as this migration creates them (bench:retrieval's shared index makes the same). */
export const TERM_INDEX_TABLES = `
      CREATE TABLE term_postings (
        id    INTEGER PRIMARY KEY,
        stem  TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        data  BLOB NOT NULL
      ) STRICT;
      CREATE INDEX term_postings_stem ON term_postings (stem);
      CREATE TABLE term_index_pending (chunk_id INTEGER PRIMARY KEY) STRICT;
      CREATE TABLE term_index_totals (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        chunks INTEGER NOT NULL,
        tokens INTEGER NOT NULL
      ) STRICT;
      INSERT INTO term_index_totals (id, chunks, tokens) VALUES (1, 0, 0);
`;

/**
 * The term index beside FTS5 (index/term-index.ts): per-stem postings for a BM25 that reads
 * only the query's postings. Every chunk already stored goes pending, as new chunks do by the
 * trigger; searches read pending chunks from their text, and the next write merges them. Only
 * DDL and SQL here: the postings' format belongs to the live code, which consumes the pending list.
 */
export const m0006TermIndex: Migration = {
  version: 6,
  name: 'term index postings',
  up(db) {
    db.exec(`${TERM_INDEX_TABLES}
      CREATE TRIGGER chunks_terms_pending AFTER INSERT ON chunks BEGIN
        INSERT INTO term_index_pending (chunk_id) VALUES (new.id);
      END;
      CREATE TRIGGER chunks_terms_unpend AFTER DELETE ON chunks BEGIN
        DELETE FROM term_index_pending WHERE chunk_id = old.id;
      END;
      INSERT INTO term_index_pending (chunk_id) SELECT id FROM chunks;
    `);
  },
};
