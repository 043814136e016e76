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
  loading: boolean;
  error: string | null;
}

const initial = (): LibraryState => ({ items: [], total: 0, offset: 0, filter: '', loading: false, error: null });

export const useLibrary = create<LibraryState>()(initial);
onTenantReset(() => useLibrary.setState(initial()));

let latest = 0;

/** Loads one page; an answer that arrives after a newer request or a tenant switch is dropped. */
export async function loadPage(offset = useLibrary.getState().offset, filter = useLibrary.getState().filter): Promise<void> {
  const ticket = ++latest;
  const generation = useSession.getState().generation;
  useLibrary.setState({ loading: true, filter, error: null });
  try {
    const page = await call('documents.list', { offset, limit: PAGE_SIZE, filter });
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
