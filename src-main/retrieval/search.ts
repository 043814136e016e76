import type { Embedder } from '../embed/embedder.js';
import { EmbedderError } from '../embed/embedder.js';
import { chunkTexts, expansionWords, feedbackVectors, rocchio } from './feedback.js';
import { porterStem, porterStemCached } from '../text/porter.js';
import { ftsQueryTerms, queryWords, quoteFtsTerm } from '../index/fts.js';
import { termStats } from '../index/term-stats.js';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Statement } from '../vault/sqlite.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { quantizeInt8 } from '../index/quantize.js';
import { codeSetOf, codesInMemory, codesReady, prefetchCodes } from './code-cache.js';
import { int8CopiesOf } from './int8-cache.js';
import { coarseStage, nearestByDistance, rankInMemory } from './vector-stage.js';
import { rankOnVectorWorker } from './vector-worker.js';
import { activeVectorIndex, int8Table, type VectorIndex } from '../index/vectors.js';
import { rankTerms, termScorer, type TermHit, type TermScorer, type WeightedStem } from '../index/term-scorer.js';

/** One hit of one retriever. `rank` starts at 1; a higher `score` is better. */
export interface RankedHit {
  readonly chunkId: number;
  readonly rank: number;
  readonly score: number;
}

export interface FusionOptions {
  /** The RRF constant: larger flattens the advantage of the very top ranks. */
  readonly rrfK: number;
  readonly bm25Weight: number;
  readonly vectorWeight: number;
}

export interface SearchOptions extends FusionOptions {
  /** Passages returned. */
  readonly k: number;
  /** Hits taken from each retriever before fusion. */
  readonly candidates: number;
  /** Top BM25 passages used as pseudo-relevance feedback; 0 turns feedback off. */
  readonly feedbackPassages: number;
  /**
   * Feedback is skipped below this many chunks: in a tiny index the top passages are most of the
   * index, so they describe the collection rather than the query.
   */
  readonly feedbackMinChunks: number;
  /** Words added to the full-text query from the feedback passages. */
  readonly expansionWords: number;
  /** How many times the user's own terms count against one expansion word (BM25 sums per term). */
  readonly queryTermWeight: number;
  /** How far the query vector moves towards the feedback passages' centroid (Rocchio beta). */
  readonly rocchioBeta: number;
  /**
   * FTS5 path only (queries with phrases of unspaced scripts, or only stop words; word queries
   * rank over the term index, which scores only the query's postings and leaves nothing out): in
   * tenants of at least `pruneMinChunks` chunks, a query word found in more than this share of
   * them is left out of the FTS5 query (at least two words always stay). Such a word makes FTS5
   * score most of the index, since its bm25() runs once per matching row: 117 ms for five common
   * words at 100,000 chunks (the idea of Lucene's common-terms cutoff). Not free in quality:
   * forced on for every query on Cranfield, fused nDCG@10 dropped from 0.410 to 0.360.
   */
  readonly commonTermRatio: number;
  readonly pruneMinChunks: number;
  /**
   * FTS5 path only, in those same large tenants: an expansion word must be in at most this share
   * of the chunks (the maxDocFreqPct of Lucene's MoreLikeThis), since each row it matches is a
   * bm25() call.
   */
  readonly expansionMaxShare: number;
}

/**
 * The product defaults. Chosen on the odd-numbered Cranfield queries and checked on the even
 * ones (bench/tune-retrieval.ts); see bench/eval-retrieval.ts for the figures.
 */
export const SEARCH_DEFAULTS: SearchOptions = {
  k: 10,
  candidates: 200,
  rrfK: 60,
  bm25Weight: 1,
  vectorWeight: 1,
  feedbackPassages: 10,
  feedbackMinChunks: 100,
  expansionWords: 10,
  queryTermWeight: 1,
  rocchioBeta: 2,
  commonTermRatio: 0.1,
  pruneMinChunks: 20_000,
  expansionMaxShare: 0.01,
};

/** The most hits one retriever returns (the coarse stage may look at more). */
const VEC_MAX_K = 4096;

function assertCount(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${n}`);
}

/**
 * Full-text top-k by BM25 (k1 = 1.2, b = 0.75), as the product's search ranks: over the term
 * index when every query term is a word it holds, else by FTS5 (see fullTextSide). Text with
 * nothing searchable gives [].
 */
export function bm25TopK(tenant: TenantHandle, query: string, k: number): RankedHit[] {
  assertCount('k', k, 10_000);
  const stems = indexedStems(query);
  return stems ? ranked(rankTerms(tenant, stems, k).hits) : fts5Bm25TopK(tenant, query, k);
}

/** Full-text top-k by FTS5's own bm25() over the OR of the query's terms (no term index). */
export function fts5Bm25TopK(tenant: TenantHandle, query: string, k: number): RankedHit[] {
  return bm25TopKTerms(tenant, ftsQueryTerms(query), k);
}

/**
 * The query's stems for the term index, each counted once, or null when some query term is not a
 * word it holds: a character pair of an unspaced script (a phrase) or a stop word (a query made
 * only of stop words keeps them). Those queries go to FTS5.
 */
export function indexedStems(query: string): WeightedStem[] | null {
  const words = queryWords(query);
  if (words.length === 0 || !words.every((w) => w.word)) return null;
  const cache = new Map<string, string>();
  return [...new Set(words.map((w) => porterStemCached(w.text, cache)))].map((stem) => ({ stem, weight: 1 }));
}

function ranked(hits: readonly TermHit[]): RankedHit[] {
  return hits.map((h, i) => ({ chunkId: h.chunkId, rank: i + 1, score: h.score }));
}

/** BM25 top-k over already quoted terms (see `ftsQueryTerms`), OR-ed; a repeated term counts twice. */
function bm25TopKTerms(tenant: TenantHandle, quotedTerms: readonly string[], k: number): RankedHit[] {
  assertCount('k', k, 10_000);
  if (quotedTerms.length === 0) return [];
  const rows = tenant.db
    .prepare('SELECT rowid AS chunkId, bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY score, rowid LIMIT ?')
    .all(quotedTerms.join(' OR '), k) as { chunkId: number; score: number }[];
  return rows.map((r, i) => ({ chunkId: r.chunkId, rank: i + 1, score: -r.score }));
}

/** Ids bound per re-rank statement: one prepared statement of this many parameters, reused. */
export const RERANK_BATCH = 800;
/** This connection's re-rank statements, per int8 table (they go with the connection when the tenant closes). */
const RERANK_STATEMENTS = cacheKey<Map<string, Statement>>('int8 re-rank statements', (m) => m.clear());

/**
 * The int8 cosine re-rank over `table` for up to RERANK_BATCH chunk ids. Parameters: the int8
 * query, then the ids (unused slots bound to NULL, which match nothing). Bound ids, not a JSON
 * list: at 2,000 candidates json_each cost as much as the cosine itself.
 */
export function int8RerankSql(table: string): string {
  const slots = Array.from({ length: RERANK_BATCH }, () => '?').join(',');
  return `SELECT chunk_id, vec_distance_cosine(vec_int8(vector), vec_int8(?)) FROM ${table} WHERE chunk_id IN (${slots})`;
}

/** Runs an int8RerankSql statement over `candidates` in batches: the top k by cosine, ties by chunk id. */
export function int8Rerank(statement: Statement, query: Buffer, candidates: readonly number[], k: number): RankedHit[] {
  const scored: { chunkId: number; distance: number }[] = [];
  for (let i = 0; i < candidates.length; i += RERANK_BATCH) {
    const batch: (number | null)[] = candidates.slice(i, i + RERANK_BATCH);
    while (batch.length < RERANK_BATCH) batch.push(null);
    for (const [chunkId, distance] of statement.raw().all(query, ...batch) as [number, number | null][]) {
      if (distance !== null) scored.push({ chunkId, distance });
    }
  }
  return nearestByDistance(scored, k);
}

/** This connection's re-rank statement for the generation's int8 table, prepared once. */
function rerankStatement(tenant: TenantHandle, index: VectorIndex): Statement {
  const byTable = tenant.cache.get(RERANK_STATEMENTS, () => new Map());
  const table = int8Table(index);
  let statement = byTable.get(table);
  if (!statement) byTable.set(table, (statement = tenant.db.prepare(int8RerankSql(table))));
  return statement;
}

/**
 * Vector top-k by cosine similarity, in two stages: the coarse stage over the SimHash codes (held
 * in memory for the open tenant, see code-cache.ts) picks `coarseCandidates(k)` candidates, then
 * the cosine of their int8 copies ranks them: in memory when the tenant's copies are loaded
 * (int8-cache.ts), else in SQLite with sqlite-vec, with the same distances. `loadInt8` lets this
 * search start loading the copies in the background (hybridRank allows it on warm searches
 * only). A zero vector (no features) gives [].
 */
export function vectorTopK(tenant: TenantHandle, index: VectorIndex, vector: Float32Array, k: number, opts: { loadInt8?: boolean } = {}): RankedHit[] {
  assertCount('k', k, VEC_MAX_K);
  if (!vector.some((x) => x !== 0)) return [];
  const codes = codeSetOf(tenant, index);
  const copies = int8CopiesOf(tenant, index, codes.ids.length, opts.loadInt8 ?? true);
  if (copies) return rankInMemory(codes, copies, vector, k);
  return int8Rerank(rerankStatement(tenant, index), quantizeInt8(vector), coarseStage(codes, vector, k), k);
}

/**
 * vectorTopK on the vector worker (vector-worker.ts), when the tenant's codes and int8 copies are
 * in memory and current (a warm search): the same hits, computed while this thread goes on with
 * other work. Null when it cannot run there, or resolves to null if the worker stopped meanwhile
 * (it never rejects, so a search that fails before awaiting it leaves nothing unhandled); the
 * caller then calls vectorTopK.
 */
function vectorTopKAside(tenant: TenantHandle, index: VectorIndex, vector: Float32Array, k: number): Promise<RankedHit[] | null> | null {
  assertCount('k', k, VEC_MAX_K);
  if (!vector.some((x) => x !== 0) || !codesInMemory(tenant, index)) return null;
  const codes = codeSetOf(tenant, index);
  const copies = int8CopiesOf(tenant, index, codes.ids.length, false);
  return copies ? (rankOnVectorWorker(tenant, codes, copies, vector, k)?.catch(() => null) ?? null) : null;
}

export interface FusedHit {
  readonly chunkId: number;
  readonly fusedScore: number;
  readonly bm25: RankedHit | null;
  readonly vector: RankedHit | null;
}

/**
 * Weighted reciprocal rank fusion: score = sum over lists of weight / (rrfK + rank). Ranks, not
 * raw scores, so BM25's unbounded scale and cosine's [-1, 1] need no calibration. Ties break by
 * chunk id so the order is deterministic.
 */
export function fuseRrf(bm25: readonly RankedHit[], vector: readonly RankedHit[], opts: FusionOptions): FusedHit[] {
  const byId = new Map<number, { bm25: RankedHit | null; vector: RankedHit | null; score: number }>();
  for (const hit of bm25) {
    byId.set(hit.chunkId, { bm25: hit, vector: null, score: opts.bm25Weight / (opts.rrfK + hit.rank) });
  }
  for (const hit of vector) {
    const add = opts.vectorWeight / (opts.rrfK + hit.rank);
    const entry = byId.get(hit.chunkId);
    if (entry) {
      entry.vector = hit;
      entry.score += add;
    } else {
      byId.set(hit.chunkId, { bm25: null, vector: hit, score: add });
    }
  }
  return [...byId.entries()]
    .map(([chunkId, e]) => ({ chunkId, fusedScore: e.score, bm25: e.bm25, vector: e.vector }))
    .sort((a, b) => b.fusedScore - a.fusedScore || a.chunkId - b.chunkId);
}

/** Embeds a query with the tenant's embedder, checking the vector fits the index. */
export async function embedQuery(embedder: Embedder, query: string, signal?: AbortSignal): Promise<Float32Array> {
  const [vector] = await embedder.embed([query], signal);
  if (vector === undefined || vector.length !== embedder.dimension) {
    throw new EmbedderError('DIMENSION_MISMATCH', `the query vector has ${vector?.length ?? 0} dimensions, expected ${embedder.dimension}`);
  }
  return vector;
}

/** The full-text side of one search: the user's terms first, then with expansion words. */
export interface FullTextSide {
  /** BM25 of the user's terms. */
  readonly first: RankedHit[];
  /** Chunks in the tenant's index. */
  readonly totalChunks: number;
  /** The largest share of chunks an expansion word may be in (1: no limit). */
  readonly expansionMaxShare: number;
  /** BM25 of the user's terms (counted `queryTermWeight` times) and the expansion words. */
  expanded(words: readonly string[]): RankedHit[];
}

/**
 * Over the term index when every query term is a word it holds: it scores only the query's
 * postings, so common words cost little and nothing is left out, and the expanded list is scored
 * exactly in one more pass. Otherwise (phrases of unspaced scripts, stop-word-only queries) FTS5,
 * with its common-term pruning in large tenants and the two-list expansion (see withExpansion).
 */
function fullTextSide(tenant: TenantHandle, query: string, opts: SearchOptions): FullTextSide {
  const stems = indexedStems(query);
  if (stems) {
    const scorer = termScorer(tenant);
    scorer.add(stems);
    return termSide(scorer, stems, opts);
  }
  const { terms, totalChunks } = fullTextTerms(tenant, query, opts);
  const first = bm25TopKTerms(tenant, terms, opts.candidates);
  return {
    first,
    totalChunks,
    expansionMaxShare: totalChunks >= opts.pruneMinChunks ? opts.expansionMaxShare : 1,
    expanded: (words) => withExpansion(first, bm25TopKTerms(tenant, words.map(quoteFtsTerm), opts.candidates), opts),
  };
}

/**
 * The term-index side over a scorer that holds the user's stems: the expanded list adds only the
 * expansion words to the same sums (and the user's stems again if they count more than once).
 */
export function termSide(scorer: Pick<TermScorer, 'add' | 'top' | 'totalChunks'>, stems: readonly WeightedStem[], opts: SearchOptions): FullTextSide {
  const cache = new Map<string, string>();
  const extraUserWeight = Math.max(1, opts.queryTermWeight) - 1;
  return {
    first: ranked(scorer.top(opts.candidates)),
    totalChunks: scorer.totalChunks,
    expansionMaxShare: 1,
    expanded: (words) => {
      scorer.add([...stems.map((s) => ({ ...s, weight: extraUserWeight })), ...words.map((w) => ({ stem: porterStemCached(w, cache), weight: 1 }))]);
      return ranked(scorer.top(opts.candidates));
    },
  };
}

/**
 * For the FTS5 path: the query's words for BM25, without the very common ones in a large tenant
 * (see commonTermRatio), and the tenant's chunk count from term_stats (one probe, no count scan).
 */
function fullTextTerms(tenant: TenantHandle, query: string, opts: SearchOptions): { terms: string[]; totalChunks: number } {
  const words = queryWords(query);
  const stemmed = words.map((w) => ({ ...w, stem: w.word ? porterStem(w.text) : null }));
  const stats = termStats(tenant, stemmed.flatMap((w) => (w.stem ? [w.stem] : [])));
  if (stats.total < opts.pruneMinChunks) return { terms: words.map((w) => quoteFtsTerm(w.text)), totalChunks: stats.total };
  const share = (w: (typeof stemmed)[number]): number => (w.stem ? stats.df(w.stem) / stats.total : 0);
  const kept = stemmed.filter((w) => share(w) <= opts.commonTermRatio);
  const keep = kept.length >= Math.min(2, stemmed.length) ? kept : [...stemmed].sort((a, b) => share(a) - share(b)).slice(0, 2);
  return { terms: keep.map((w) => quoteFtsTerm(w.text)), totalChunks: stats.total };
}

/**
 * The full-text list for the user's terms plus the expansion words, from two cheap lists instead
 * of one more pass over the user's terms: FTS5's BM25 is a sum over the query's terms, so a
 * chunk's score for both is its score for the user's terms (counted `queryTermWeight` times) plus
 * its score for the expansion words. Exact for chunks in both lists; a chunk in one list only gets
 * nothing from the other (it ranks below that list's cut-off there), which leaves it where a
 * single pass over the OR of all terms would put it unless it sits right at that edge. The
 * expansion words are rare by construction, so their list is usually complete.
 */
export function withExpansion(user: readonly RankedHit[], expansion: readonly RankedHit[], opts: SearchOptions): RankedHit[] {
  const score = new Map<number, number>();
  const weight = Math.max(1, opts.queryTermWeight);
  for (const h of user) score.set(h.chunkId, weight * h.score);
  for (const h of expansion) score.set(h.chunkId, (score.get(h.chunkId) ?? 0) + h.score);
  return [...score.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, opts.candidates)
    .map(([chunkId, s], i) => ({ chunkId, rank: i + 1, score: s }));
}

export interface HybridRanking {
  /** The full-text list that was fused (with expansion words when feedback is on). */
  readonly bm25: RankedHit[];
  /** The vector list that was fused (from the feedback-moved query vector when feedback is on). */
  readonly vector: RankedHit[];
  readonly fused: FusedHit[];
}

/**
 * Hybrid ranking with pseudo-relevance feedback:
 *  1. BM25 for the user's terms; its top `feedbackPassages` hits are the feedback set.
 *  2. Full-text list: BM25 of the user's terms (counted `queryTermWeight` times) OR-ed with
 *     `expansionWords` words drawn from the feedback set (RM3-style, IDF from this index),
 *     assembled from step 1's list and a BM25 list of the expansion words (see withExpansion).
 *  3. Vector list: KNN for the query vector moved towards the feedback vectors (Rocchio); on a
 *     warm search it runs on the vector worker while this thread does step 2.
 *  4. Weighted reciprocal rank fusion of the two lists.
 * With `feedbackPassages: 0` it is plain BM25 + KNN + RRF. The feedback reads only this tenant's
 * index, and works the same with any embedder since it uses the stored vectors.
 */
export async function hybridRank(
  tenant: TenantHandle,
  embedder: Embedder | null,
  query: string,
  options: Partial<SearchOptions> = {},
  signal?: AbortSignal,
): Promise<HybridRanking> {
  const opts: SearchOptions = { ...SEARCH_DEFAULTS, ...options };
  assertCount('candidates', opts.candidates, VEC_MAX_K);
  // No embedder (unreachable) or no vectors yet: full-text only, never another embedder's vectors.
  const index = embedder ? activeVectorIndex(tenant) : null;
  if (embedder && index && (index.embedderId !== embedder.id || index.dimension !== embedder.dimension)) {
    throw new BulkheadError('EMBEDDER_MISMATCH', `this tenant's vectors come from ${index.embedderId}, not ${embedder.id}: re-embed it first`);
  }
  // Right after opening, most of the codes are read on the background reader while the full-text
  // side runs here. Once they are in memory (a warm search), the int8 copies may load there too.
  const warm = embedder !== null && index !== null && codesInMemory(tenant, index);
  if (embedder && index) prefetchCodes(tenant, index);
  let queryVector = embedder && index ? await embedQuery(embedder, query, signal) : null;
  const text = fullTextSide(tenant, query, opts);
  let bm25 = text.first;
  const feedbackIds = opts.feedbackPassages > 0 && text.totalChunks >= opts.feedbackMinChunks ? bm25.slice(0, opts.feedbackPassages).map((h) => h.chunkId) : [];
  if (index && feedbackIds.length > 0 && queryVector?.some((x) => x !== 0)) queryVector = rocchio(queryVector, feedbackVectors(tenant, index, feedbackIds), opts.rocchioBeta);
  // When warm, the vector stage runs on the vector worker while the expansion runs here.
  const aside = warm && index && queryVector ? vectorTopKAside(tenant, index, queryVector, opts.candidates) : null;
  if (feedbackIds.length > 0) {
    const expansion = expansionWords(tenant, query, chunkTexts(tenant, feedbackIds), opts.expansionWords, text.expansionMaxShare);
    if (expansion.length > 0) bm25 = text.expanded(expansion);
  }
  let vector: RankedHit[] = [];
  if (index && queryVector) {
    const fromWorker = aside ? await aside : null;
    if (fromWorker) vector = fromWorker;
    else {
      await codesReady(tenant, index);
      vector = vectorTopK(tenant, index, queryVector, opts.candidates, { loadInt8: warm });
    }
  }
  return { bm25, vector, fused: fuseRrf(bm25, vector, opts) };
}
