// The open client's watched folders and their background sync, as main reports them.
import { create } from 'zustand';
import type { WatchStatus } from '../../src-shared/contract.js';
import { call, messageOf } from '../client.js';
import { loadPage } from './library.js';
import { onTenantReset } from './reset.js';
import { reloadOpenTenant, stillCurrent, useSession } from './session.js';

interface WatchState {
  status: WatchStatus | null;
  error: string | null;
}
const initial = (): WatchState => ({ status: null, error: null });
export const useWatch = create<WatchState>()(initial);
onTenantReset(() => useWatch.setState(initial()));

async function apply(work: () => Promise<WatchStatus>): Promise<void> {
  const generation = useSession.getState().generation;
  const before = useWatch.getState().status;
  try {
    const status = await work();
    if (!stillCurrent(generation)) return;
    useWatch.setState({ status, error: null });
    // A sync finished since the last look (however short it was): show what it added or changed.
    if (before && status.lastRun && status.lastRun.at !== before.lastRun?.at) {
      await loadPage();
      await reloadOpenTenant();
    }
  } catch (err) {
    if (stillCurrent(generation)) useWatch.setState({ error: messageOf(err) });
  }
}

export const refreshWatch = (): Promise<void> => apply(() => call('watch.status', {}));
export const addFolder = (path: string): Promise<void> => apply(() => call('watch.add', { path }));
export const removeFolder = (path: string): Promise<void> => apply(() => call('watch.remove', { path }));
export const syncNow = (): Promise<void> => apply(() => call('watch.sync', {}));
export async function confirmRemoved(documentIds: number[]): Promise<void> {
  await apply(() => call('watch.confirmRemoved', { documentIds }));
  await loadPage();
  await reloadOpenTenant();
}
