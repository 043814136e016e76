import type { Migration } from '../migrate.js';
import { quantizeInt8 } from '../../../retrieval/quantize.js';
import { simhash } from '../../../retrieval/simhash.js';

const BATCH = 2000;

/**
 * The vector stage moves off vec0's bit KNN (its cost grows with k) to plain tables scanned with
 * sqlite-vec's distance functions (retrieval/vectors.ts). For every vector generation in the
 * file: the SimHash codes move from the vec0 table `chunk_codes_G` into `chunk_bits_G`, and the
 * int8 copies `chunk_q8_G` are made from the float vectors. Both are pure functions of what is
 * stored, so no embedder is needed (codes are computed from the floats if a generation lacks them).
 */
export const m0005PlainVectorTables: Migration = {
  version: 5,
  name: 'vector codes and int8 copies in plain tables',
  up(db) {
    const generations = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'chunk_vectors_[0-9]*'").pluck().all() as string[])
      .map((name) => Number(name.slice('chunk_vectors_'.length)))
      .filter((g) => Number.isSafeInteger(g) && g > 0);
    for (const g of generations) {
      db.exec(`
        CREATE TABLE chunk_bits_${g} (chunk_id INTEGER PRIMARY KEY, code BLOB NOT NULL) STRICT;
        CREATE TABLE chunk_q8_${g} (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL) STRICT;
      `);
      const hasCodes = db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(`chunk_codes_${g}`) !== undefined;
      if (hasCodes) {
        db.exec(`INSERT INTO chunk_bits_${g} (chunk_id, code) SELECT chunk_id, code FROM chunk_codes_${g}; DROP TABLE chunk_codes_${g};`);
      }
      const page = db.prepare(`SELECT chunk_id, embedding FROM chunk_vectors_${g} WHERE chunk_id > ? ORDER BY chunk_id LIMIT ${BATCH}`);
      const insert = db.prepare(`INSERT INTO chunk_q8_${g} (chunk_id, vector) VALUES (?, ?)`);
      const insertCode = db.prepare(`INSERT INTO chunk_bits_${g} (chunk_id, code) VALUES (?, ?)`);
      for (let after = 0; ; ) {
        const rows = page.all(after) as { chunk_id: number; embedding: Buffer }[];
        if (rows.length === 0) break;
        for (const r of rows) {
          const e = r.embedding;
          const vector = new Float32Array(e.buffer.slice(e.byteOffset, e.byteOffset + e.byteLength));
          insert.run(r.chunk_id, quantizeInt8(vector));
          if (!hasCodes) insertCode.run(r.chunk_id, simhash(vector));
        }
        after = rows.at(-1)!.chunk_id;
      }
    }
  },
};
