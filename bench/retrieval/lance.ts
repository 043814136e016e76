// Baseline "LanceDB flat": the same vectors in a LanceDB table (@lancedb/lancedb, the version in
// node_modules), no index, so every search is an exhaustive (flat) cosine scan. Unencrypted, and
// multi-threaded in Rust (it may use both cores where our SQLite search uses one).
import * as lancedb from '@lancedb/lancedb';
import { row, type VectorSet } from './exact.js';

export class LanceFlat {
  private constructor(
    readonly conn: lancedb.Connection,
    readonly table: lancedb.Table,
  ) {}

  static async build(dir: string, vectors: VectorSet): Promise<LanceFlat> {
    const n = vectors.ids.length;
    // Plain objects: LanceDB infers FixedSizeList<Float32>[dimension] for the vector column.
    const rows = Array.from({ length: n }, (_, i) => ({ id: vectors.ids[i]!, vector: Array.from(row(vectors, i)) }));
    const conn = await lancedb.connect(dir);
    const table = await conn.createTable('chunks', rows, { mode: 'overwrite' });
    if ((await table.listIndices()).length > 0) throw new Error('the LanceDB table must have no index (flat search)');
    if ((await table.countRows()) !== n) throw new Error('LanceDB row count mismatch');
    return new LanceFlat(conn, table);
  }

  async topK(query: Float32Array, k: number): Promise<{ chunkId: number; distance: number }[]> {
    const rows = (await this.table.vectorSearch(query).distanceType('cosine').limit(k).select(['id', '_distance']).toArray()) as {
      id: number;
      _distance: number;
    }[];
    return rows.map((r) => ({ chunkId: Number(r.id), distance: r._distance }));
  }

  close(): void {
    this.table.close();
    this.conn.close();
  }
}
