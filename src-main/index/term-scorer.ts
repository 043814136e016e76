// BM25 over the term index (term-index.ts): the postings of the query's stems, decoded and
// scored in one tight loop, summed per chunk over one or more passes, then the top k.
import type { TenantHandle } from '../vault/handle.js';
import { BM25_B, BM25_K1, chunkTerms, forEachPosting, lengthOf, quantizeLength, type ChunkTerms } from './term-postings.js';

export interface WeightedStem {
  readonly stem: string;
  /** How many times the term counts (BM25 sums over the query's terms). */
  readonly weight: number;
}

export interface TermHit {
  readonly chunkId: number;
  readonly score: number;
}

export interface TermRanking {
  readonly hits: TermHit[];
  /** Chunks in the index (merged and pending). */
  readonly totalChunks: number;
}

/** Ids at most this far apart are accumulated in a dense array; wider, in a Map. */
const DENSE_SPAN = 1 << 22;

/**
 * BM25 top-k over the term index: score = Σ weight · idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen)),
 * with FTS5's IDF, log((N − df + 0.5) / (df + 0.5)) floored at 1e-6. Every posting of the query's
 * stems is scored (no early stop is needed at these list lengths); ties go to the lower chunk id.
 */
export function rankTerms(tenant: TenantHandle, stems: readonly WeightedStem[], k: number): TermRanking {
  const scorer = termScorer(tenant);
  scorer.add(stems);
  return { hits: scorer.top(k), totalChunks: scorer.totalChunks };
}

/** A scorer over the tenant's term index, for several passes that share their sums (see TermScorer). */
export function termScorer(tenant: TenantHandle): TermScorer {
  return new TermScorer(tenant);
}

/**
 * Sums BM25 contributions per chunk over one or more `add` calls, then gives the top k: a search
 * that scores the user's terms, takes feedback from the top, and then adds expansion words scores
 * only the new words the second time. The index's totals and pending chunks are read once, when
 * it is made; use it for one search only.
 */
export class TermScorer {
  /** Chunks in the index (merged and pending) at the last `add`. */
  totalChunks = 0;
  readonly #tenant: TenantHandle;
  #acc: Accumulator | null = null;
  /** Pending chunks already tokenised by an earlier pass (chunks are immutable). */
  readonly #tokenised = new Map<number, ChunkTerms>();
  readonly #stems = new Map<string, string>();

  constructor(tenant: TenantHandle) {
    this.#tenant = tenant;
  }

  /**
   * Adds the contributions of these stems (a stem given twice, or in two calls, counts twice).
   * Each call reads one snapshot (a read transaction): totals, pending chunks and postings agree
   * even while another process commits a merge.
   */
  add(stems: readonly WeightedStem[]): void {
    const wanted = new Map<string, number>();
    for (const s of stems) if (s.weight > 0) wanted.set(s.stem, (wanted.get(s.stem) ?? 0) + s.weight);
    this.#tenant.db.transaction(() => this.#add(wanted))();
  }

  #add(wanted: ReadonlyMap<string, number>): void {
    const db = this.#tenant.db;
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
    this.#acc ??= new Accumulator(db.prepare('SELECT (SELECT min(id) FROM chunks) AS lo, (SELECT max(id) FROM chunks) AS hi').get() as ChunkIdRange);
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
    for (const [stem, weight] of wanted) {
      const d = df.get(stem) ?? 0;
      if (d === 0) continue;
      const scale = weight * Math.max(1e-6, Math.log((n - d + 0.5) / (d + 0.5))) * (BM25_K1 + 1);
      for (const data of segments.get(stem) ?? []) acc.addSegment(data, scale, norm);
      for (const c of pending) {
        const count = c.tf.get(stem);
        if (count === undefined) continue;
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

/** The tenant's lowest and highest chunk id (null: no chunks). */
interface ChunkIdRange {
  lo: number | null;
  hi: number | null;
}

/** Scores per chunk id: a dense array over the tenant's id range, or a Map when that range is huge. */
class Accumulator {
  readonly #base: number;
  readonly #dense: Float64Array | null;
  readonly #sparse = new Map<number, number>();
  readonly #touched: number[] = [];
  readonly #table = new Float64Array(16 * 256);

  constructor(range: ChunkIdRange) {
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
  addSegment(data: Uint8Array, scale: number, norm: Float64Array): void {
    const dense = this.#dense;
    if (!dense) {
      forEachPosting(data, (id, tf, q) => this.add(id, (scale * tf) / (tf + norm[q]!)));
      return;
    }
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

/** A bounded min-heap keeping the k best (score desc, id asc). */
export class TopK {
  readonly #ids: number[] = [];
  readonly #scores: number[] = [];
  constructor(readonly k: number) {}

  /** True when (sa, ia) ranks below (sb, ib). */
  static #worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  offer(id: number, score: number): void {
    const ids = this.#ids;
    const scores = this.#scores;
    if (ids.length < this.k) {
      ids.push(id);
      scores.push(score);
      let i = ids.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!TopK.#worse(scores[i]!, ids[i]!, scores[parent]!, ids[parent]!)) break;
        this.#swap(i, parent);
        i = parent;
      }
      return;
    }
    if (this.k === 0 || !TopK.#worse(scores[0]!, ids[0]!, score, id)) return;
    ids[0] = id;
    scores[0] = score;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < ids.length && TopK.#worse(scores[l]!, ids[l]!, scores[m]!, ids[m]!)) m = l;
      if (r < ids.length && TopK.#worse(scores[r]!, ids[r]!, scores[m]!, ids[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    [this.#ids[a], this.#ids[b]] = [this.#ids[b]!, this.#ids[a]!];
    [this.#scores[a], this.#scores[b]] = [this.#scores[b]!, this.#scores[a]!];
  }

  sorted(): TermHit[] {
    return this.#ids.map((chunkId, i) => ({ chunkId, score: this.#scores[i]! })).sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
  }
}
