// The term index: per-stem postings (chunk id, term frequency, chunk length) kept beside FTS5 in
// the tenant's file, so that a BM25 top-k reads only the query's postings and scores them in a
// tight loop.
//
// Why: FTS5's bm25() is an SQL function called once per matching row, with the row's position
// lists walked to count the term; at 100,000 chunks a median query matches 20,000 rows and costs
// 11 to 13 ms whatever the LIMIT (0.45 µs a row plus an IDF pass), and five common words cost
// 117 ms. The same work over varint postings is about 10 ns a posting here, so the search no
// longer has to leave common query words out in large tenants (which cost quality, see
// SearchOptions.commonTermRatio). FTS5 stays the index for what postings without positions cannot
// answer: phrases (the character pairs of CJK queries) and queries made only of stop words.
//
// Layout (tenant migration 6):
// - term_postings(stem, count, data): at most a few segments per stem, each a run of postings
//   sorted by chunk id: varint(id delta), varint(tf), one byte of quantised chunk length.
// - term_index_pending(chunk_id): chunks stored but not yet in the postings. A trigger on chunks
//   adds them, in the transaction that stores the chunk, so no path that inserts chunks can
//   forget; `mergePendingTerms` moves them into the postings (an ingest run merges every
//   MERGE_EVERY_CHUNKS chunks and at its end). A search tokenises any still pending (a search
//   during a run in another process, or after a killed run, finds up to that many) itself, so
//   results never depend on whether the merge has run.
// - term_index_totals: chunks and tokens in the postings, for the average length.
//
// The tokens are term-stats.ts indexWords, Porter-stemmed, as on the query side (fts.ts
// queryWords): folded words of spaced scripts, stop words out, numbers in. The chunk length
// counts those tokens (stop words out, as in Lucene with a stop filter).
import { porterStemCached } from '../text/porter.js';
import type { TenantHandle } from '../vault/handle.js';
import { isStorageError, type Db } from '../vault/sqlite.js';
import { indexWords } from './term-stats.js';

/** BM25 parameters, the same as FTS5's bm25(). */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/**
 * An ingest run merges after this many new chunks: a search meanwhile tokenises at most about
 * this many pending chunks (some 100 ms), and the run pays a merge of small segments each time.
 */
export const MERGE_EVERY_CHUNKS = 4096;
/** Pending chunks merged per pass: bounds the memory of one merge (postings of this many chunks). */
export const MERGE_BATCH = 20_000;
/** Postings a stem's small segments may reach before they are merged into its large one (as a share of it). */
const SMALL_SHARE = 0.25;

/**
 * A chunk length as one byte: a log scale in steps of 4% (Lucene quantises its length norms to a
 * byte too). Lengths from 1 to about 22,000 tokens; BM25 moves by well under 1% for a 4% length step.
 */
const LENGTH_STEP = Math.log(1.04);
export function quantizeLength(tokens: number): number {
  return Math.min(255, Math.max(0, Math.round(Math.log(Math.max(1, tokens)) / LENGTH_STEP)));
}
export function lengthOf(quantized: number): number {
  return Math.exp(quantized * LENGTH_STEP);
}

/** A chunk's index terms: stem → count, and its length in tokens. */
export interface ChunkTerms {
  readonly length: number;
  readonly tf: Map<string, number>;
}

/** The stem of each index word of `text`, in order (see the header for which words). */
export function indexStems(text: string, cache: Map<string, string>): string[] {
  return indexWords(text).map((word) => porterStemCached(word, cache));
}

export function chunkTerms(text: string, cache: Map<string, string>): ChunkTerms {
  const stems = indexStems(text, cache);
  const tf = new Map<string, number>();
  for (const s of stems) tf.set(s, (tf.get(s) ?? 0) + 1);
  return { length: stems.length, tf };
}

// ---- segments -------------------------------------------------------------------------------

/** Postings of one stem, decoded: parallel arrays sorted by chunk id. */
interface Postings {
  ids: number[];
  tfs: number[];
  lengths: number[];
}

function emptyPostings(): Postings {
  return { ids: [], tfs: [], lengths: [] };
}

/** Writes v as a varint at out[p]; returns the position after it. */
function putVarint(out: Uint8Array, p: number, v: number): number {
  while (v > 127) {
    out[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  return p;
}

/** Most bytes of one posting: an id delta below 2^53 (8 varint bytes), tf up to 0xffff (3), the length byte. */
const MAX_POSTING_BYTES = 12;

/** Encodes postings sorted by chunk id (ids strictly increasing). */
export function encodeSegment(postings: Postings): Buffer {
  const out = Buffer.allocUnsafe(postings.ids.length * MAX_POSTING_BYTES);
  let p = 0;
  let last = 0;
  for (let i = 0; i < postings.ids.length; i++) {
    const id = postings.ids[i]!;
    if (!(id > last) || !Number.isSafeInteger(id)) throw new RangeError(`postings must be sorted by chunk id (${id} after ${last})`);
    p = putVarint(out, p, id - last);
    p = putVarint(out, p, Math.min(postings.tfs[i]!, 0xffff));
    out[p++] = postings.lengths[i]! & 255;
    last = id;
  }
  return Buffer.from(out.subarray(0, p));
}

/**
 * A segment without the postings of `drop`, spliced at the byte level: the bytes between dropped
 * postings are copied as they are, and only the delta of the posting after a dropped one is
 * written again. Null when the segment holds none of them.
 */
export function withoutIds(data: Uint8Array, drop: ReadonlySet<number>): { data: Buffer; count: number; removed: number } | null {
  const parts: Uint8Array[] = [];
  const delta = new Uint8Array(8);
  let copyFrom = 0;
  let p = 0;
  let id = 0;
  let lastKept = 0;
  let count = 0;
  let removed = 0;
  let rebase = false;
  while (p < data.length) {
    const start = p;
    let b = data[p++]!;
    let v = b & 127;
    for (let mul = 128; b > 127; mul *= 128) {
      b = data[p++]!;
      v += (b & 127) * mul;
    }
    id += v;
    const afterDelta = p;
    while (data[p++]! > 127);
    p += 1;
    if (drop.has(id)) {
      parts.push(data.subarray(copyFrom, start));
      copyFrom = p;
      removed += 1;
      rebase = true;
      continue;
    }
    if (rebase) {
      parts.push(data.subarray(copyFrom, start), delta.slice(0, putVarint(delta, 0, id - lastKept)));
      copyFrom = afterDelta;
      rebase = false;
    }
    lastKept = id;
    count += 1;
  }
  if (removed === 0) return null;
  parts.push(data.subarray(copyFrom));
  return { data: Buffer.concat(parts), count, removed };
}

/** Calls `visit(id, tf, quantizedLength)` for each posting of a segment, in id order. */
function forEachPosting(data: Uint8Array, visit: (id: number, tf: number, length: number) => void): void {
  let p = 0;
  let id = 0;
  const n = data.length;
  while (p < n) {
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
    visit(id, tf, data[p++]!);
  }
}

export function decodeSegment(data: Uint8Array): Postings {
  const p = emptyPostings();
  forEachPosting(data, (id, tf, length) => {
    p.ids.push(id);
    p.tfs.push(tf);
    p.lengths.push(length);
  });
  return p;
}

/** Merges postings sorted by id (a chunk is in one of them at most). */
function mergePostings(lists: readonly Postings[]): Postings {
  const out = emptyPostings();
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let l = 0; l < lists.length; l++) {
      const i = at[l]!;
      if (i < lists[l]!.ids.length && (best < 0 || lists[l]!.ids[i]! < lists[best]!.ids[at[best]!]!)) best = l;
    }
    if (best < 0) return out;
    const list = lists[best]!;
    const i = at[best]!++;
    const id = list.ids[i]!;
    if (out.ids.length > 0 && out.ids.at(-1) === id) throw new RangeError(`chunk ${id} is in two segments of one stem`);
    out.ids.push(id);
    out.tfs.push(list.tfs[i]!);
    out.lengths.push(list.lengths[i]!);
  }
}

// ---- writing (inside the caller's transaction) ----------------------------------------------

interface SegmentRow {
  id: number;
  count: number;
  data: Buffer;
}

function segmentsOf(db: Db, stem: string): SegmentRow[] {
  return db.prepare('SELECT id, count, data FROM term_postings WHERE stem = ? ORDER BY count DESC, id').all(stem) as SegmentRow[];
}

function replaceSegments(db: Db, stem: string, old: readonly SegmentRow[], merged: Postings): void {
  const del = db.prepare('DELETE FROM term_postings WHERE id = ?');
  for (const s of old) del.run(s.id);
  if (merged.ids.length > 0) db.prepare('INSERT INTO term_postings (stem, count, data) VALUES (?, ?, ?)').run(stem, merged.ids.length, encodeSegment(merged));
}

function adjustTotals(db: Db, chunks: number, tokens: number): void {
  db.prepare('UPDATE term_index_totals SET chunks = chunks + ?, tokens = tokens + ? WHERE id = 1').run(chunks, tokens);
}

/**
 * Adds new postings to a stem: they merge with its small segments, and with its largest too once
 * the small ones reach SMALL_SHARE of it. So a stem has at most two segments after a merge, and a
 * small ingest rewrites small segments only.
 */
function addToStem(db: Db, stem: string, fresh: Postings): void {
  const [largest, ...small] = segmentsOf(db, stem);
  if (!largest) return replaceSegments(db, stem, [], fresh);
  const smallCount = small.reduce((n, s) => n + s.count, fresh.ids.length);
  const merging = smallCount >= SMALL_SHARE * largest.count ? [largest, ...small] : small;
  replaceSegments(db, stem, merging, mergePostings([...merging.map((s) => decodeSegment(s.data)), fresh]));
}

/**
 * Moves pending chunks into the postings, MERGE_BATCH at a time, each batch in its own
 * transaction (an interrupted merge leaves the rest pending, still searchable). For migrations,
 * which run before a TenantHandle exists; everything else calls `mergePendingTerms`.
 */
export function mergePendingTermsOf(db: Db): number {
  let merged = 0;
  const cache = new Map<string, string>();
  for (;;) {
    const done = db.transaction(() => {
      const rows = db
        .prepare('SELECT c.id, c.text FROM term_index_pending p CROSS JOIN chunks c ON c.id = p.chunk_id ORDER BY p.chunk_id LIMIT ?')
        .all(MERGE_BATCH) as { id: number; text: string }[];
      if (rows.length === 0) {
        // Pending rows of chunks that no longer exist (none should: a trigger removes them).
        db.prepare('DELETE FROM term_index_pending').run();
        return 0;
      }
      const byStem = new Map<string, Postings>();
      let tokens = 0;
      for (const { id, text } of rows) {
        const { length, tf } = chunkTerms(text, cache);
        tokens += length;
        const q = quantizeLength(length);
        for (const [stem, n] of tf) {
          let p = byStem.get(stem);
          if (!p) byStem.set(stem, (p = emptyPostings()));
          p.ids.push(id);
          p.tfs.push(n);
          p.lengths.push(q);
        }
      }
      for (const [stem, p] of byStem) addToStem(db, stem, p);
      adjustTotals(db, rows.length, tokens);
      const del = db.prepare('DELETE FROM term_index_pending WHERE chunk_id = ?');
      for (const r of rows) del.run(r.id);
      return rows.length;
    }).immediate();
    if (done === 0) return merged;
    merged += done;
  }
}

/**
 * Moves the tenant's pending chunks into the postings, after a batch of writes. Like the code
 * pack, an optimisation only: if the storage refuses it (a full disk, a busy file) the chunks stay
 * pending, and searches read them from their text. The batch it follows has committed either way,
 * so its outcome must not turn into a failure. Returns how many chunks moved.
 */
export function mergePendingTerms(tenant: TenantHandle): number {
  try {
    return mergePendingTermsOf(tenant.db);
  } catch (err) {
    if (!tenant.isOpen || !isStorageError(err)) throw err;
    return 0;
  }
}

/**
 * Takes chunks about to be deleted out of the term index, inside the caller's transaction (before
 * the rows go): pending ones just leave the pending list (the trigger does that on delete), merged
 * ones leave the postings of each of their stems.
 */
export function removeChunkTerms(tenant: TenantHandle, chunks: readonly { id: number; text: string }[]): void {
  const db = tenant.db;
  const isPending = db.prepare('SELECT 1 FROM term_index_pending WHERE chunk_id = ?').pluck();
  const cache = new Map<string, string>();
  const byStem = new Map<string, Set<number>>();
  let count = 0;
  let tokens = 0;
  for (const { id, text } of chunks) {
    if (isPending.get(id) !== undefined) continue;
    const { length, tf } = chunkTerms(text, cache);
    count += 1;
    tokens += length;
    for (const stem of tf.keys()) {
      let ids = byStem.get(stem);
      if (!ids) byStem.set(stem, (ids = new Set()));
      ids.add(id);
    }
  }
  const update = db.prepare('UPDATE term_postings SET count = ?, data = ? WHERE id = ?');
  const del = db.prepare('DELETE FROM term_postings WHERE id = ?');
  for (const [stem, ids] of byStem) {
    for (const segment of segmentsOf(db, stem)) {
      const kept = withoutIds(segment.data, ids);
      if (!kept) continue;
      if (kept.count === 0) del.run(segment.id);
      else update.run(kept.count, kept.data, segment.id);
    }
  }
  if (count > 0) adjustTotals(db, -count, -tokens);
}

// ---- search ---------------------------------------------------------------------------------

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
  return new TermScorer(tenant.db, null);
}

/** Keeps only the postings of one tenant: the shared-index baseline of bench:retrieval. */
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
export class TermScorer {
  /** Chunks in the index (merged and pending) at the last `add`. */
  totalChunks = 0;
  readonly #db: Db;
  readonly #filter: SharedFilter | null;
  #acc: Accumulator | null = null;
  /** Pending chunks already tokenised by an earlier pass (chunks are immutable). */
  readonly #tokenised = new Map<number, ChunkTerms>();
  readonly #stems = new Map<string, string>();

  /** With a filter, for the bench's shared-index baseline only; the product calls termScorer. */
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

/** A bounded min-heap keeping the k best (score desc, id asc). */
class TopK {
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
    return this.#ids
      .map((chunkId, i) => ({ chunkId, score: this.#scores[i]! }))
      .sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
  }
}
