// The Search screen's view state as a URL query (q or like, kind, tag, from, to), its results, the facets
// the filters offer, and the document reader. All of it is tenant data: it lives in memory only and
// every store resets on a switch. (The browser's address bar would write it into the profile's
// history file, so the view's URL is kept here and not in window.location.)
import { create } from 'zustand';
import type { DocumentView, Facets, SearchFilters, SearchResult } from '../../src-shared/contract.js';
import { MAX_SEARCH_CHARS } from '../../src-shared/search-limits.js';
import { call, messageOf } from '../client.js';
import { onTenantReset } from './reset.js';
import { closePassage } from './panels.js';
import { setScreen, stillCurrent, useSession } from './session.js';

export interface SearchView {
  query: string;
  /** "Find similar": the passage (chunk id) whose text is the query; its own document is left out. */
  like: number | null;
  filters: SearchFilters;
}

export const NO_FILTERS: SearchFilters = { formats: [], tags: [], from: null, to: null };

/**
 * The view as a URL query string: what a link to this search would carry. "Find similar" carries
 * the passage's id (`like=`), not its text: a link names the passage, and stays short.
 */
export function searchViewUrl(v: SearchView): string {
  const p = new URLSearchParams();
  if (v.like !== null) p.set('like', String(v.like));
  else if (v.query) p.set('q', v.query);
  for (const f of v.filters.formats) p.append('kind', f);
  for (const t of v.filters.tags) p.append('tag', t);
  if (v.filters.from) p.set('from', v.filters.from);
  if (v.filters.to) p.set('to', v.filters.to);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function parseSearchViewUrl(url: string): SearchView {
  const p = new URLSearchParams(url.replace(/^\?/, ''));
  const day = (x: string | null): string | null => (x && /^\d{4}-\d{2}-\d{2}$/.test(x) ? x : null);
  const like = /^[1-9][0-9]{0,15}$/.test(p.get('like') ?? '') ? Number(p.get('like')) : null;
  return {
    query: like === null ? (p.get('q') ?? '') : '',
    like,
    filters: { formats: p.getAll('kind'), tags: p.getAll('tag'), from: day(p.get('from')), to: day(p.get('to')) },
  };
}

/** The passage a "find similar" view is about, as its banner shows it. */
export interface LikePassage {
  chunkId: number;
  documentId: number;
  title: string;
  text: string;
}

interface SearchState {
  /** The view's URL state: `?q=…` or `?like=<chunk id>`, then `&kind=…&tag=…&from=…&to=…`. */
  url: string;
  result: SearchResult | null;
  /** The URL state `result` answers: until a new search is back, the list on screen is the last one's. */
  resultUrl: string;
  /** With `like=`: the passage searched by. */
  likePassage: LikePassage | null;
  loading: boolean;
  error: string | null;
  facets: Facets | null;
}
const initial = (): SearchState => ({ url: '', result: null, resultUrl: '', likePassage: null, loading: false, error: null, facets: null });
export const useSearchView = create<SearchState>()(initial);
onTenantReset(() => useSearchView.setState(initial()));

let latest = 0;

/** Moves the view to this URL state and runs its search (when it has a query or a passage). */
export async function navigateSearch(view: SearchView): Promise<void> {
  const url = searchViewUrl(view);
  useSearchView.setState({ url, error: null });
  if (view.like === null && !view.query.trim()) return void useSearchView.setState({ result: null, resultUrl: url, likePassage: null, loading: false });
  const ticket = ++latest;
  const generation = useSession.getState().generation;
  useSearchView.setState({ loading: true });
  const current = (): boolean => ticket === latest && stillCurrent(generation);
  try {
    let likePassage: LikePassage | null = null;
    let result: SearchResult;
    if (view.like !== null) {
      // The passage's own text is the query (search by example); its document is left out, since
      // a user asking for passages like this one has that document open already.
      const p = await call('documents.passage', { chunkId: view.like });
      likePassage = { chunkId: p.chunkId, documentId: p.documentId, title: p.title, text: p.text };
      if (current()) useSearchView.setState({ likePassage });
      result = await call('knowledge.search', {
        query: p.text.slice(0, MAX_SEARCH_CHARS),
        k: 20,
        filters: view.filters,
        excludeDocumentIds: [p.documentId],
      });
    } else {
      result = await call('knowledge.search', { query: view.query.trim(), k: 20, filters: view.filters });
    }
    if (current()) useSearchView.setState({ result, resultUrl: url, likePassage, loading: false });
  } catch (err) {
    if (current()) useSearchView.setState({ error: messageOf(err), result: null, resultUrl: url, loading: false });
  }
}

/** "Find similar" on a passage, from a search hit, the passage drawer or the document reader. */
export function findSimilar(chunkId: number): Promise<void> {
  closePassage();
  closeDocument();
  setScreen('search');
  return navigateSearch({ query: '', like: chunkId, filters: parseSearchViewUrl(useSearchView.getState().url).filters });
}

export async function loadFacets(): Promise<void> {
  const generation = useSession.getState().generation;
  try {
    const facets = await call('documents.facets', {});
    if (stillCurrent(generation)) useSearchView.setState({ facets });
  } catch {
    // Filters without suggestions still work.
  }
}

interface ReaderState {
  view: DocumentView | null;
  /** The passage to show in place and scroll to. */
  chunkId: number | null;
  error: string | null;
}
const readerInitial = (): ReaderState => ({ view: null, chunkId: null, error: null });
export const useReader = create<ReaderState>()(readerInitial);
onTenantReset(() => useReader.setState(readerInitial()));

export async function openDocument(documentId: number, chunkId: number | null): Promise<void> {
  const generation = useSession.getState().generation;
  try {
    const view = await call('documents.open', { documentId });
    if (stillCurrent(generation)) useReader.setState({ view, chunkId, error: null });
  } catch (err) {
    if (stillCurrent(generation)) useReader.setState({ view: null, chunkId: null, error: messageOf(err) });
  }
}
export function closeDocument(): void {
  useReader.setState(readerInitial());
}
