import type { Migration } from '../migrate.js';
import { mergePendingTermsOf } from '../../../retrieval/term-index.js';

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
 * The term index beside FTS5 (retrieval/term-index.ts): per-stem postings for a BM25 that reads
 * only the query's postings. Every chunk already stored goes pending by the same trigger new
 * chunks use, then into the postings, so a tenant opened by this build searches the same way
 * whether its chunks came before or after it.
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
    mergePendingTermsOf(db);
  },
};
