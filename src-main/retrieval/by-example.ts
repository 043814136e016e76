// Search by example: a pasted passage or a whole document (up to MAX_QUERY_CHARS) as the query.
// Its full text would make BM25 score hundreds of terms and the embedder read thousands of
// tokens; instead, as Lucene's MoreLikeThis does, the query keeps its most telling terms (the
// highest tf x idf in this tenant's own index: frequent in the passage, rare in the collection)
// and the embedder reads a bounded prefix. A short query passes through unchanged, so only
// queries of more distinct terms than a search uses anyway (MAX_QUERY_TERMS) take this path.
import { MAX_SEARCH_CHARS } from '../../src-shared/search-limits.js';
import { MAX_QUERY_TERMS, queryWords } from '../index/fts.js';
import { contentWords, idf, stemCacheOf, termStats } from '../index/term-stats.js';
import { indexWords } from '../text/words.js';
import { porterStemCached } from '../text/porter.js';
import type { TenantHandle } from '../vault/handle.js';

/** The longest query a search takes (characters), as the contract says. */
export const MAX_QUERY_CHARS = MAX_SEARCH_CHARS;
/** The most characters of a long query the embedder reads. */
export const EMBED_MAX_CHARS = 2_000;

export interface SearchableQuery {
  /** What the full-text side searches: the query, or its most telling terms. */
  readonly text: string;
  /** What the embedder reads: the query, or its first EMBED_MAX_CHARS characters (at a word boundary). */
  readonly embed: string;
}

/** The query as a search reads it (see the header). */
export function searchableQuery(tenant: TenantHandle, query: string): SearchableQuery {
  const embed = boundedPrefix(query, EMBED_MAX_CHARS);
  // Unspaced scripts (phrases of character pairs) keep FTS5's first MAX_QUERY_TERMS pairs.
  if (new Set(indexWords(query)).size <= MAX_QUERY_TERMS || queryWords(query).some((w) => !w.word)) return { text: query, embed };
  const telling = tellingTerms(tenant, contentWords(query), MAX_QUERY_TERMS);
  return { text: telling.length > 0 ? telling.join(' ') : query, embed };
}

/**
 * The `count` words of highest tf x idf (tf in the query, idf in the tenant's index; words the
 * index does not hold, or holds in more than half its chunks, are left out), as they appear in
 * the query, best first; ties by the word, so the choice is reproducible.
 */
export function tellingTerms(tenant: TenantHandle, words: readonly string[], count: number): string[] {
  const stems = stemCacheOf(tenant);
  const tf = new Map<string, number>();
  const surface = new Map<string, string>();
  for (const word of words) {
    const stem = porterStemCached(word, stems);
    tf.set(stem, (tf.get(stem) ?? 0) + 1);
    if (!surface.has(stem)) surface.set(stem, word);
  }
  const stats = termStats(tenant, tf.keys());
  const scored: { stem: string; score: number }[] = [];
  for (const [stem, n] of tf) {
    const weight = stats.df(stem) > 0 ? idf(stats, stem) : 0;
    if (weight > 0) scored.push({ stem, score: n * weight });
  }
  scored.sort((a, b) => b.score - a.score || (a.stem < b.stem ? -1 : 1));
  return scored.slice(0, count).map((s) => surface.get(s.stem)!);
}

/** The first `max` characters of `text`, cut back to the last whitespace when there is one in the second half. */
export function boundedPrefix(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.search(/\s\S*$/);
  return space > max / 2 ? cut.slice(0, space) : cut;
}
