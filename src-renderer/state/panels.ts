// The smaller tenant stores: search results, the passage drawer, the audit trail, settings.
import { create } from 'zustand';
import type { AuditRecord, AuditVerification, Passage, SearchResult, Settings } from '../../src-shared/contract.js';
import { call, messageOf } from '../client.js';
import { onTenantReset } from './reset.js';
import { stillCurrent, useSession } from './session.js';

async function guarded<T>(work: () => Promise<T>, apply: (v: T) => void, fail: (message: string) => void): Promise<void> {
  const generation = useSession.getState().generation;
  try {
    const v = await work();
    if (stillCurrent(generation)) apply(v);
  } catch (err) {
    if (stillCurrent(generation)) fail(messageOf(err));
  }
}

interface SearchState {
  query: string;
  result: SearchResult | null;
  loading: boolean;
  error: string | null;
}
const searchInitial = (): SearchState => ({ query: '', result: null, loading: false, error: null });
export const useSearch = create<SearchState>()(searchInitial);
onTenantReset(() => useSearch.setState(searchInitial()));

export function runSearch(query: string): Promise<void> {
  useSearch.setState({ query, loading: true, error: null });
  return guarded(
    () => call('knowledge.search', { query, k: 20 }),
    (result) => useSearch.setState({ result, loading: false }),
    (error) => useSearch.setState({ error, loading: false }),
  );
}

interface PassageState {
  passage: Passage | null;
  error: string | null;
}
const passageInitial = (): PassageState => ({ passage: null, error: null });
export const usePassage = create<PassageState>()(passageInitial);
onTenantReset(() => usePassage.setState(passageInitial()));

export function openPassage(chunkId: number): Promise<void> {
  return guarded(
    () => call('documents.passage', { chunkId }),
    (passage) => usePassage.setState({ passage, error: null }),
    (error) => usePassage.setState({ passage: null, error }),
  );
}
export function closePassage(): void {
  usePassage.setState(passageInitial());
}

interface AuditState {
  records: AuditRecord[];
  verification: AuditVerification | null;
  loading: boolean;
  error: string | null;
}
const auditInitial = (): AuditState => ({ records: [], verification: null, loading: false, error: null });
export const useAudit = create<AuditState>()(auditInitial);
onTenantReset(() => useAudit.setState(auditInitial()));

export function loadAudit(): Promise<void> {
  useAudit.setState({ loading: true, error: null });
  return guarded(
    async () => {
      const verification = await call('audit.verify', {});
      // The latest 500 records: the chain is verified whole, the table shows the recent end.
      const records = await call('audit.list', { afterSeq: Math.max(0, verification.count - 500), limit: 500 });
      return { verification, records };
    },
    (v) => useAudit.setState({ ...v, loading: false }),
    (error) => useAudit.setState({ error, loading: false }),
  );
}

interface SettingsState {
  settings: Settings | null;
  error: string | null;
}
const settingsInitial = (): SettingsState => ({ settings: null, error: null });
export const useSettings = create<SettingsState>()(settingsInitial);
onTenantReset(() => useSettings.setState(settingsInitial()));

export function loadSettings(): Promise<void> {
  return guarded(
    () => call('settings.get', {}),
    (settings) => useSettings.setState({ settings, error: null }),
    (error) => useSettings.setState({ error }),
  );
}
