// What the Search screen shows around the ranking: the words of each passage that matched the
// query (same folding and stemming as the full-text index), and results narrowed by filters.
import type { SearchFilters } from '../../src-shared/contract.js';
import { allowedDocumentIds, isEmptyFilter } from '../ingest/document-filters.js';
import { searchKnowledge, type SearchResult } from '../retrieval/knowledge.js';
import { foldText, TOKEN_RUN } from '../text/fold.js';
import { porterStem } from '../text/porter.js';
import { ENGLISH_STOPWORDS } from '../text/stopwords.js';
import type { TenantHandle } from '../vault/handle.js';

const termOf = (word: string): string => porterStem(foldText(word));

/** The query's terms as the index sees them: folded, stemmed, stop words out (unless nothing else is left). */
export function queryTerms(query: string): Set<string> {
  const words = [...foldText(query).matchAll(TOKEN_RUN)].map((m) => m[0]);
  const content = words.filter((w) => !ENGLISH_STOPWORDS.has(w));
  return new Set((content.length ? content : words).map((w) => porterStem(w)));
}

/** [start, end) of each word of `text` whose term is one of `terms`; at most `max` of them. */
export function highlightRanges(text: string, terms: ReadonlySet<string>, max = 200): [number, number][] {
  if (terms.size === 0) return [];
  const out: [number, number][] = [];
  for (const m of text.matchAll(TOKEN_RUN)) {
    if (terms.has(termOf(m[0]))) out.push([m.index, m.index + m[0].length]);
    if (out.length >= max) break;
  }
  return out;
}

/** A search with the Search screen's filters and highlights. Filters narrow a wider ranking. */
export async function searchForView(
  tenant: TenantHandle,
  query: string,
  opts: { k: number; filters?: SearchFilters | undefined; signal?: AbortSignal; excludeDocumentIds?: readonly number[] | undefined; tune?: boolean },
): Promise<Omit<SearchResult, 'passages'> & { passages: (SearchResult['passages'][number] & { highlights: [number, number][]; format?: string })[] }> {
  const f = opts.filters ? { tags: opts.filters.tags, formats: opts.filters.formats, from: opts.filters.from, to: opts.filters.to } : {};
  const filtered = !isEmptyFilter(f);
  // With filters, rank the widest list the search allows, then keep the allowed documents' passages.
  const result = await searchKnowledge(tenant, query, {
    k: filtered ? 100 : opts.k,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.excludeDocumentIds ? { excludeDocumentIds: opts.excludeDocumentIds } : {}),
    ...(opts.tune === false ? { tune: false } : {}),
  });
  const allowed = filtered ? allowedDocumentIds(tenant, f) : null;
  const passages = (allowed ? result.passages.filter((p) => allowed.has(p.documentId)) : result.passages).slice(0, opts.k);
  // A pasted passage is searched by its most telling terms: those are what is marked, not its every word.
  const terms = queryTerms(result.searchedAs ?? result.query);
  const formats = new Map<number, string>();
  if (passages.length) {
    const rows = tenant.db
      .prepare('SELECT id, format FROM documents WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify([...new Set(passages.map((p) => p.documentId))])) as { id: number; format: string }[];
    for (const r of rows) formats.set(r.id, r.format);
  }
  return {
    ...result,
    passages: passages.map((p) => ({
      ...p,
      highlights: highlightRanges(p.text, terms),
      ...(formats.has(p.documentId) ? { format: formats.get(p.documentId)! } : {}),
    })),
  };
}
