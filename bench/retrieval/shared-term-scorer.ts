// The shared-index baseline's BM25 (see shared-index.ts): the product's term-index scorer
// (src-main/index/term-scorer.ts) over ONE set of postings for all tenants, each posting checked
// against its chunk's tenant, as a shared index must. A copy of the product's scorer plus that
// filter, over the shared file's raw connection; keep it in step when the product's changes.
import type { Db } from '../../src-main/vault/sqlite.js';
import { BM25_B, BM25_K1, chunkTerms, forEachPosting, lengthOf, quantizeLength, type ChunkTerms } from '../../src-main/index/term-postings.js';
import { TopK, type TermHit, type WeightedStem } from '../../src-main/index/term-scorer.js';

/** Ids at most this far apart are accumulated in a dense array; wider, in a Map. */
const DENSE_SPAN = 1 << 22;

/** Keeps only the postings of one tenant. */
export interface SharedFilter {
  /** tenantOf[chunkId]: the tenant of each chunk of the shared file. */
  readonly tenantOf: Uint8Array;
  readonly tenant: number;
}

/**
 * Sums BM25 contributions per chunk over one or more `add` calls, then gives the top k: a search
 * that scores the user's terms, takes feedback from the top, and then adds expansion words scores
 * only the new words the second time. The index's totals and pending chunks are read once, when
 * it is made; use it for one search only.
 */
export class SharedTermScorer {
  /** Chunks in the index (merged and pending) at the last `add`. */
  totalChunks = 0;
  readonly #db: Db;
  readonly #filter: SharedFilter | null;
  #acc: Accumulator | null = null;
  /** Pending chunks already tokenised by an earlier pass (chunks are immutable). */
  readonly #tokenised = new Map<number, ChunkTerms>();
  readonly #stems = new Map<string, string>();

  constructor(db: Db, filter: SharedFilter | null) {
    this.#db = db;
    this.#filter = filter;
  }

  /**
   * Adds the contributions of these stems (a stem given twice, or in two calls, counts twice).
   * Each call reads one snapshot (a read transaction): totals, pending chunks and postings agree
   * even while another process commits a merge.
   */
  add(stems: readonly WeightedStem[]): void {
    const wanted = new Map<string, number>();
    for (const s of stems) if (s.weight > 0) wanted.set(s.stem, (wanted.get(s.stem) ?? 0) + s.weight);
    this.#db.transaction(() => this.#add(wanted))();
  }

  #add(wanted: ReadonlyMap<string, number>): void {
    const db = this.#db;
    const totals = db.prepare('SELECT chunks, tokens FROM term_index_totals WHERE id = 1').get() as { chunks: number; tokens: number };
    const pendingRows = db.prepare('SELECT chunk_id FROM term_index_pending ORDER BY chunk_id').pluck().all() as number[];
    const text = db.prepare('SELECT text FROM chunks WHERE id = ?').pluck();
    const pending: { id: number; length: number; tf: Map<string, number> }[] = [];
    for (const id of pendingRows) {
      let terms = this.#tokenised.get(id);
      if (!terms) {
        const t = text.get(id) as string | undefined;
        if (t === undefined) continue;
        this.#tokenised.set(id, (terms = chunkTerms(t, this.#stems)));
      }
      pending.push({ id, ...terms });
    }
    const n = (this.totalChunks = totals.chunks + pending.length);
    this.#acc ??= new Accumulator(db);
    if (wanted.size === 0 || n === 0) return;
    const avgLength = (totals.tokens + pending.reduce((sum, c) => sum + c.length, 0)) / n;
    const norm = new Float64Array(256);
    for (let q = 0; q < 256; q++) norm[q] = BM25_K1 * (1 - BM25_B + (BM25_B * lengthOf(q)) / avgLength);

    const segments = new Map<string, Uint8Array[]>();
    const df = new Map<string, number>();
    const rows = db
      .prepare('SELECT stem, count, data FROM term_postings WHERE stem IN (SELECT value FROM json_each(?))')
      .raw()
      .all(JSON.stringify([...wanted.keys()])) as [string, number, Buffer][];
    for (const [stem, count, data] of rows) {
      segments.set(stem, [...(segments.get(stem) ?? []), data]);
      df.set(stem, (df.get(stem) ?? 0) + count);
    }
    for (const c of pending) for (const stem of c.tf.keys()) if (wanted.has(stem)) df.set(stem, (df.get(stem) ?? 0) + 1);
    const acc = this.#acc;
    const filter = this.#filter;
    for (const [stem, weight] of wanted) {
      const d = df.get(stem) ?? 0;
      if (d === 0) continue;
      const scale = weight * Math.max(1e-6, Math.log((n - d + 0.5) / (d + 0.5))) * (BM25_K1 + 1);
      for (const data of segments.get(stem) ?? []) acc.addSegment(data, scale, norm, filter);
      for (const c of pending) {
        const count = c.tf.get(stem);
        if (count === undefined || (filter && filter.tenantOf[c.id] !== filter.tenant)) continue;
        const tf = Math.min(count, 0xffff); // as a segment stores it
        acc.add(c.id, (scale * tf) / (tf + norm[quantizeLength(c.length)]!));
      }
    }
  }

  /** The k best chunks so far, by score then lower id. */
  top(k: number): TermHit[] {
    return this.#acc ? this.#acc.top(k) : [];
  }
}

/** Scores per chunk id: a dense array over the tenant's id range, or a Map when that range is huge. */
class Accumulator {
  readonly #base: number;
  readonly #dense: Float64Array | null;
  readonly #sparse = new Map<number, number>();
  readonly #touched: number[] = [];
  readonly #table = new Float64Array(16 * 256);

  constructor(db: Db) {
    const range = db.prepare('SELECT (SELECT min(id) FROM chunks) AS lo, (SELECT max(id) FROM chunks) AS hi').get() as { lo: number | null; hi: number | null };
    this.#base = range.lo ?? 0;
    const span = (range.hi ?? 0) - this.#base + 1;
    this.#dense = span <= DENSE_SPAN ? new Float64Array(span) : null;
  }

  add(id: number, score: number): void {
    const dense = this.#dense;
    if (dense) {
      const i = id - this.#base;
      if (!(i >= 0 && i < dense.length)) return;
      if (dense[i] === 0) this.#touched.push(id);
      dense[i]! += score;
    } else {
      const had = this.#sparse.get(id);
      if (had === undefined) this.#touched.push(id);
      this.#sparse.set(id, (had ?? 0) + score);
    }
  }

  /** The hot loop: one segment's postings, decoded and scored in place. */
  addSegment(data: Uint8Array, scale: number, norm: Float64Array, filter: SharedFilter | null): void {
    const dense = this.#dense;
    if (!dense) {
      forEachPosting(data, (id, tf, q) => {
        if (!filter || filter.tenantOf[id] === filter.tenant) this.add(id, (scale * tf) / (tf + norm[q]!));
      });
      return;
    }
    const tenantOf = filter ? filter.tenantOf : null;
    const tenant = filter ? filter.tenant : 0;
    // Contributions for tf < 16, per length byte: a lookup instead of a division per posting.
    const table = this.#table;
    for (let tf = 1; tf < 16; tf++) for (let q = 0; q < 256; q++) table[(tf << 8) | q] = (scale * tf) / (tf + norm[q]!);
    const base = this.#base;
    const touched = this.#touched;
    const end = data.length;
    let p = 0;
    let id = 0;
    while (p < end) {
      let b = data[p++]!;
      let v = b & 127;
      for (let mul = 128; b > 127; mul *= 128) {
        b = data[p++]!;
        v += (b & 127) * mul;
      }
      id += v;
      b = data[p++]!;
      let tf = b & 127;
      for (let mul = 128; b > 127; mul *= 128) {
        b = data[p++]!;
        tf += (b & 127) * mul;
      }
      const q = data[p++]!;
      if (tenantOf !== null && tenantOf[id] !== tenant) continue;
      const i = id - base;
      if (!(i >= 0 && i < dense.length)) continue; // cannot happen: deletes leave the postings in the same transaction
      if (dense[i] === 0) touched.push(id);
      dense[i]! += tf < 16 ? table[(tf << 8) | q]! : (scale * tf) / (tf + norm[q]!);
    }
  }

  #score(id: number): number {
    return this.#dense ? this.#dense[id - this.#base]! : this.#sparse.get(id)!;
  }

  /** The k best, by score then lower id. */
  top(k: number): TermHit[] {
    const heap = new TopK(k);
    for (const id of this.#touched) heap.offer(id, this.#score(id));
    return heap.sorted();
  }
}
