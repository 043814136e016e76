// Baseline "naive float": one plain float32 vec0 table (what vectors.ts created before the
// bit-quantized stage), in an encrypted file opened exactly like a tenant, exhaustive KNN.
import type Database from 'better-sqlite3-multiple-ciphers';
import { createOwnerOnlyFile } from '../../src-main/vault/paths.js';
import { openEncryptedDatabase, type Db } from '../../src-main/vault/sqlite.js';
import type { VectorSet } from './exact.js';
import { row } from './exact.js';

export class NaiveFloatIndex {
  readonly db: Db;
  readonly #knn: Database.Statement<unknown[]>;

  private constructor(db: Db) {
    this.db = db;
    this.#knn = db.prepare('SELECT chunk_id AS chunkId, distance FROM vec_float WHERE embedding MATCH ? AND k = ? ORDER BY distance');
  }

  static build(file: string, key: Buffer, vectors: VectorSet): NaiveFloatIndex {
    createOwnerOnlyFile(file);
    let db = openEncryptedDatabase(file, key, { mustExist: false, label: 'naive float index' });
    db.exec(`CREATE VIRTUAL TABLE vec_float USING vec0(chunk_id INTEGER PRIMARY KEY, embedding float[${vectors.dimension}] distance_metric=cosine)`);
    const insert = db.prepare('INSERT INTO vec_float (chunk_id, embedding) VALUES (?, ?)');
    const n = vectors.ids.length;
    for (let at = 0; at < n; at += 20_000) {
      db.transaction(() => {
        for (let i = at; i < Math.min(n, at + 20_000); i++) {
          const v = row(vectors, i);
          insert.run(BigInt(vectors.ids[i]!), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        }
      })();
    }
    db.close(); // reopen: a fresh connection, as a tenant is used
    db = openEncryptedDatabase(file, key, { mustExist: true, label: 'naive float index' });
    return new NaiveFloatIndex(db);
  }

  /** The same post-processing as the product's vector stage (tie-break by id, ranks). */
  topK(query: Float32Array, k: number): { chunkId: number; rank: number; score: number }[] {
    const rows = this.#knn.all(Buffer.from(query.buffer, query.byteOffset, query.byteLength), k) as { chunkId: number; distance: number }[];
    rows.sort((a, b) => a.distance - b.distance || a.chunkId - b.chunkId);
    return rows.map((r, i) => ({ chunkId: r.chunkId, rank: i + 1, score: 1 - r.distance }));
  }

  close(): void {
    this.db.close();
  }
}
