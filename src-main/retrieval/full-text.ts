// The full-text side of a search: BM25 of the user's terms, then with expansion words. The one
// place that chooses between the term index (term-scorer.ts: word queries, every posting of the
// query's stems scored) and FTS5 (phrases of unspaced scripts, queries only of stop words).
import { porterStem, porterStemCached } from '../text/porter.js';
import { ftsQueryTerms, queryWords, quoteFtsTerm } from '../index/fts.js';
import { termStats } from '../index/term-stats.js';
import { termScorer, type TermHit, type TermScorer, type WeightedStem } from '../index/term-scorer.js';
import type { TenantHandle } from '../vault/handle.js';
import type { RankedHit, SearchOptions } from './search.js';

function assertCount(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${n}`);
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
export function fullTextSide(tenant: TenantHandle, query: string, opts: SearchOptions): FullTextSide {
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
  const stats = termStats(
    tenant,
    stemmed.flatMap((w) => (w.stem ? [w.stem] : [])),
  );
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
