import { create } from 'zustand';
import type { DocumentItem } from '../../src-shared/contract.js';
import { call } from '../client.js';
import { onTenantReset } from './reset.js';
import { reloadOpenTenant, stillCurrent, useSession } from './session.js';

export const PAGE_SIZE = 100;

interface LibraryState {
  items: DocumentItem[];
  total: number;
  offset: number;
  filter: string;
  /** Only documents with every one of these tags / of one of these kinds. */
  tags: string[];
  formats: string[];
  loading: boolean;
  error: string | null;
}

const initial = (): LibraryState => ({ items: [], total: 0, offset: 0, filter: '', tags: [], formats: [], loading: false, error: null });

export const useLibrary = create<LibraryState>()(initial);
onTenantReset(() => useLibrary.setState(initial()));

let latest = 0;

/** Loads one page; an answer that arrives after a newer request or a tenant switch is dropped. */
export async function loadPage(
  offset = useLibrary.getState().offset,
  filter = useLibrary.getState().filter,
  narrow: { tags?: string[]; formats?: string[] } = {},
): Promise<void> {
  const ticket = ++latest;
  const generation = useSession.getState().generation;
  const tags = narrow.tags ?? useLibrary.getState().tags;
  const formats = narrow.formats ?? useLibrary.getState().formats;
  useLibrary.setState({ loading: true, filter, tags, formats, error: null });
  try {
    const page = await call('documents.list', { offset, limit: PAGE_SIZE, filter, tags, formats });
    if (ticket !== latest || !stillCurrent(generation)) return;
    useLibrary.setState({ items: page.items, total: page.total, offset: page.offset, loading: false });
  } catch (err) {
    if (ticket !== latest || !stillCurrent(generation)) return;
    useLibrary.setState({ loading: false, error: err instanceof Error ? err.message : 'could not load the library' });
  }
}

export async function deleteDocument(documentId: number): Promise<void> {
  await call('documents.delete', { documentId });
  const { offset, total } = useLibrary.getState();
  await loadPage(offset >= total - 1 && offset > 0 ? Math.max(0, offset - PAGE_SIZE) : offset);
  await reloadOpenTenant();
}

/** Replaces a document's tags, then shows the page again (the document may leave a tag filter). */
export async function setTags(documentId: number, tags: string[]): Promise<void> {
  await call('documents.setTags', { documentId, tags });
  await loadPage();
}
