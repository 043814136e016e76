// Hybrid search, the one path: a query's BM25 list (full-text.ts) and vector list (vector-side.ts),
// pseudo-relevance feedback between them, and reciprocal rank fusion. Read hybridRank top to
// bottom; see README.md in this folder for one query from the contract call to SQL and back.
import type { Embedder } from '../embed/embedder.js';
import { EmbedderError } from '../embed/embedder.js';
import { HASHED_EMBEDDER_ID } from '../embed/hashed.js';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { activeVectorIndex } from '../index/vectors.js';
import { stemCacheOf } from '../index/term-stats.js';
import { porterStemCached } from '../text/porter.js';
import { indexWords } from '../text/words.js';
import { chunkTexts, expansionWords, rocchio } from './feedback.js';
import { searchableQuery } from './by-example.js';
import { fullTextSide } from './full-text.js';
import { VEC_MAX_K, vectorStage, type VectorStageKind } from './vector-side.js';

export { fts5Bm25TopK, indexedStems, termSide, withExpansion, type FullTextSide } from './full-text.js';
export { int8Rerank, int8RerankSql, RERANK_BATCH, referenceVectorTopK, vectorTopK, type VectorStageKind } from './vector-side.js';

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
   * A query of more distinct terms than this (as the full-text side searches them) is a pasted
   * passage, a search by example. Its query vector does not move: it already says what it is
   * about, and the centroid of its feedback passages pulls it off (on ArguAna, whose queries are
   * whole arguments, moving them cost 0.03 nDCG@10 with the learnt term space); its BM25 list
   * still gets the expansion. And it fuses with `longQueryVectorWeight`.
   */
  readonly longQueryTerms: number;
  /**
   * The vector weight of a long query. Not calibrated: a tenant's calibration draws short
   * known-item queries, which say nothing of how a whole passage is best matched, and where
   * BM25 of the passage's telling terms is noisier than its vector.
   */
  readonly longQueryVectorWeight: number;
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
 * The product defaults. The feedback settings were chosen on the odd-numbered Cranfield queries
 * and checked on the even ones; Rocchio's beta (1, before 2) and the long-query rule in the term
 * space prototype (bench/prototypes/term-space). The fusion constants come from
 * bench/tune-fusion.ts, on the odd-position queries of Cranfield, NFCorpus and ArguAna, a choice
 * kept only if the even ones agree: for short queries rrfK 10 and vectorWeight 0.6 (its best
 * there, 1.25, lost on the even Cranfield queries, so they stay); for long queries (ArguAna's
 * whole arguments) longQueryVectorWeight 3 (odd 0.526 to 0.540, even 0.508 to 0.525; Recall@100
 * 0.996 to 0.993 on the odd ones). A smaller k lets the very top of each list count for more; the
 * short queries' lower weight keeps a weak vector list from pulling good BM25 hits down, and a
 * long query's higher one lets a passage's vector find its like, which it does better than BM25
 * of the passage's telling terms (not the plain hash vectors of a small tenant: see hybridRank). See
 * bench/eval-retrieval.ts for the figures. A tenant of at least 50 chunks searches short queries
 * with its own calibrated vectorWeight instead (calibration.ts), which keeps this one unless its
 * synthetic queries show a clear gain elsewhere.
 */
export const SEARCH_DEFAULTS: SearchOptions = {
  k: 10,
  candidates: 200,
  rrfK: 10,
  bm25Weight: 1,
  vectorWeight: 0.6,
  feedbackPassages: 10,
  feedbackMinChunks: 100,
  expansionWords: 10,
  queryTermWeight: 1,
  rocchioBeta: 1,
  longQueryTerms: 32,
  longQueryVectorWeight: 3,
  commonTermRatio: 0.1,
  pruneMinChunks: 20_000,
  expansionMaxShare: 0.01,
};

function assertCount(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${n}`);
}

/**
 * Full-text top-k by BM25 (k1 = 1.2, b = 0.75), as the product's search ranks its user's terms
 * (fullTextSide chooses the term index or FTS5), without FTS5's common-term pruning of large
 * tenants. Text with nothing searchable gives [].
 */
export function bm25TopK(tenant: TenantHandle, query: string, k: number): RankedHit[] {
  assertCount('k', k, 10_000);
  return fullTextSide(tenant, searchableQuery(tenant, query).text, { ...SEARCH_DEFAULTS, candidates: k, pruneMinChunks: Infinity }).first;
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

function distinctStems(tenant: TenantHandle, text: string): number {
  const stems = stemCacheOf(tenant);
  return new Set(indexWords(text).map((w) => porterStemCached(w, stems))).size;
}

/** Embeds a query with the tenant's embedder, checking the vector fits the index. */
export async function embedQuery(embedder: Embedder, query: string, signal?: AbortSignal): Promise<Float32Array> {
  const [vector] = await embedder.embed([query], signal);
  if (vector === undefined || vector.length !== embedder.dimension) {
    throw new EmbedderError('DIMENSION_MISMATCH', `the query vector has ${vector?.length ?? 0} dimensions, expected ${embedder.dimension}`);
  }
  return vector;
}

export interface HybridRanking {
  /** The full-text list that was fused (with expansion words when feedback is on). */
  readonly bm25: RankedHit[];
  /** The vector list that was fused (from the feedback-moved query vector when feedback is on). */
  readonly vector: RankedHit[];
  readonly fused: FusedHit[];
  /** What the full-text side searched: the query, or its most telling terms (by-example.ts). */
  readonly searchedText: string;
  /** A search by example (more than `longQueryTerms` distinct terms): fused with `longQueryVectorWeight` (but see hybridRank). */
  readonly longQuery: boolean;
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
 * index, and works the same with any embedder since it uses the stored vectors. `vectors` picks
 * the vector side's way (vector-side.ts): the product's accelerations, or the reference, which the
 * same-answer tests compare them with.
 */
export async function hybridRank(
  tenant: TenantHandle,
  embedder: Embedder | null,
  query: string,
  options: Partial<SearchOptions> = {},
  signal?: AbortSignal,
  vectors: VectorStageKind = 'accelerated',
): Promise<HybridRanking> {
  const opts: SearchOptions = { ...SEARCH_DEFAULTS, ...options };
  assertCount('candidates', opts.candidates, VEC_MAX_K);
  // No embedder (unreachable) or no vectors yet: full-text only, never another embedder's vectors.
  const index = embedder ? activeVectorIndex(tenant) : null;
  if (embedder && index && (index.embedderId !== embedder.id || index.dimension !== embedder.dimension)) {
    throw new BulkheadError('EMBEDDER_MISMATCH', `this tenant's vectors come from ${index.embedderId}, not ${embedder.id}: re-embed it first`);
  }
  const stage = embedder && index ? vectorStage(tenant, index, vectors) : null;
  stage?.begin();
  // A pasted passage searches by its most telling terms, and embeds a bounded part (by-example.ts).
  const searchable = searchableQuery(tenant, query);
  let queryVector = embedder && stage ? await embedQuery(embedder, searchable.embed, signal) : null;

  // 1. BM25 of the user's terms; the feedback set.
  const text = fullTextSide(tenant, searchable.text, opts);
  let bm25 = text.first;
  const feedbackIds = opts.feedbackPassages > 0 && text.totalChunks >= opts.feedbackMinChunks ? bm25.slice(0, opts.feedbackPassages).map((h) => h.chunkId) : [];

  // 3 (started). The query vector moved towards the feedback vectors; on a warm search its KNN
  // starts on the vector worker now, while step 2 runs here.
  const longQuery = distinctStems(tenant, searchable.text) > opts.longQueryTerms;
  if (stage && feedbackIds.length > 0 && !longQuery && queryVector?.some((x) => x !== 0))
    queryVector = rocchio(queryVector, stage.feedback(feedbackIds), opts.rocchioBeta);
  const aside = stage && queryVector ? stage.aside(queryVector, opts.candidates) : null;

  // 2. The expansion words, added to the full-text list.
  if (feedbackIds.length > 0) {
    const expansion = expansionWords(tenant, searchable.text, chunkTexts(tenant, feedbackIds), opts.expansionWords, text.expansionMaxShare);
    if (expansion.length > 0) bm25 = text.expanded(expansion);
  }

  // 3. The vector list.
  let vector: RankedHit[] = [];
  if (stage && queryVector) vector = (aside ? await aside : null) ?? (await stage.rank(queryVector, opts.candidates));

  // 4. Fusion.
  // The plain hash vectors (a tenant too small to have learnt its term space) know no word's
  // neighbours: on ArguAna alone they score below BM25 (0.28 to 0.33), so they never lead.
  const vectorsLead = longQuery && embedder !== null && embedder.id !== HASHED_EMBEDDER_ID;
  const fusion = vectorsLead ? { ...opts, vectorWeight: opts.longQueryVectorWeight } : opts;
  return { bm25, vector, fused: fuseRrf(bm25, vector, fusion), searchedText: searchable.text, longQuery };
}
