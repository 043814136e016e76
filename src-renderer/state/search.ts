// The Search screen's view state as a URL query (q, kind, tag, from, to), its results, the facets
// the filters offer, and the document reader. All of it is tenant data: it lives in memory only and
// every store resets on a switch. (The browser's address bar would write it into the profile's
// history file, so the view's URL is kept here and not in window.location.)
import { create } from 'zustand';
import type { DocumentView, Facets, SearchFilters, SearchResult } from '../../src-shared/contract.js';
import { call, messageOf } from '../client.js';
import { onTenantReset } from './reset.js';
import { stillCurrent, useSession } from './session.js';

export interface SearchView {
  query: string;
  filters: SearchFilters;
}

export const NO_FILTERS: SearchFilters = { formats: [], tags: [], from: null, to: null };

/** The view as a URL query string: what a link to this search would carry. */
export function searchViewUrl(v: SearchView): string {
  const p = new URLSearchParams();
  if (v.query) p.set('q', v.query);
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
  return { query: p.get('q') ?? '', filters: { formats: p.getAll('kind'), tags: p.getAll('tag'), from: day(p.get('from')), to: day(p.get('to')) } };
}

interface SearchState {
  /** The view's URL state: `?q=…&kind=…&tag=…&from=…&to=…`. */
  url: string;
  result: SearchResult | null;
  loading: boolean;
  error: string | null;
  facets: Facets | null;
}
const initial = (): SearchState => ({ url: '', result: null, loading: false, error: null, facets: null });
export const useSearchView = create<SearchState>()(initial);
onTenantReset(() => useSearchView.setState(initial()));

let latest = 0;

/** Moves the view to this URL state and runs its search (when it has a query). */
export async function navigateSearch(view: SearchView): Promise<void> {
  const url = searchViewUrl(view);
  useSearchView.setState({ url, error: null });
  if (!view.query.trim()) return void useSearchView.setState({ result: null, loading: false });
  const ticket = ++latest;
  const generation = useSession.getState().generation;
  useSearchView.setState({ loading: true });
  try {
    const result = await call('knowledge.search', { query: view.query.trim(), k: 20, filters: view.filters });
    if (ticket === latest && stillCurrent(generation)) useSearchView.setState({ result, loading: false });
  } catch (err) {
    if (ticket === latest && stillCurrent(generation)) useSearchView.setState({ error: messageOf(err), loading: false });
  }
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
