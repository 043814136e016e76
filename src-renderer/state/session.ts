import { create } from 'zustand';
import type { TenantItem, VaultStatus } from '../../src-shared/contract.js';
import { call, setViewTenant, whenLocked, whenTenantChanged } from '../client.js';
import { resetTenantStores } from './reset.js';

export type Screen = 'library' | 'search' | 'chat' | 'audit' | 'isolation' | 'settings';

interface SessionState {
  status: VaultStatus | null;
  tenants: TenantItem[];
  screen: Screen;
  /** Bumped on every tenant switch or lock: async work started before compares and drops its result. */
  generation: number;
  busy: boolean;
  /** A tenant switch is in flight: no screen of either tenant is shown, so none asks main anything. */
  switching: boolean;
}

const initial = (): Omit<SessionState, 'screen'> => ({ status: null, tenants: [], generation: 0, busy: false, switching: false });

export const useSession = create<SessionState>()(() => ({ ...initial(), screen: 'library' }));

/** Applies a status from main; a change of tenant (or a lock) wipes every tenant store first. */
export function applyStatus(status: VaultStatus): void {
  const before = useSession.getState().status;
  const changed = before?.tenant?.id !== status.tenant?.id || status.state !== 'unlocked';
  if (changed) resetTenantStores();
  setViewTenant(status.state === 'unlocked' ? (status.tenant?.id ?? null) : null);
  useSession.setState((s) => ({
    status,
    generation: changed ? s.generation + 1 : s.generation,
    // The list of clients is fetched when a picker shows it, and forgotten on every switch.
    tenants: changed ? [] : s.tenants,
    screen: changed ? 'library' : s.screen,
  }));
}

export async function refreshStatus(): Promise<void> {
  applyStatus(await call('vault.status', {}));
}

export async function refreshTenants(): Promise<void> {
  const generation = useSession.getState().generation;
  const tenants = await call('tenants.list', {});
  if (stillCurrent(generation)) useSession.setState({ tenants });
}

export async function unlock(passphrase: string): Promise<void> {
  applyStatus(await call('vault.unlock', { passphrase }));
}

export async function initialize(passphrase: string, samples: boolean): Promise<void> {
  applyStatus(await call('vault.initialize', { passphrase, samples }));
}

export async function lock(): Promise<void> {
  resetTenantStores();
  useSession.setState({ tenants: [] });
  applyStatus(await call('vault.lock', {}));
}

export async function openTenant(tenantId: string): Promise<void> {
  // Wipe first: nothing of the previous client may be on screen while the next one opens.
  // Until the answer, no screen is mounted: a screen of the previous tenant asking for its data now
  // would be answered TENANT_CHANGED and reload the whole view a second time.
  resetTenantStores();
  useSession.setState((s) => ({ generation: s.generation + 1, tenants: [], switching: true }));
  try {
    const tenant = await call('tenants.open', { tenantId });
    const status = useSession.getState().status;
    // The open answer carries what the status would: no second round trip on the switch path.
    applyStatus(status ? { ...status, state: 'unlocked', tenant } : await call('vault.status', {}));
  } finally {
    useSession.setState({ switching: false });
  }
}

export async function reloadOpenTenant(): Promise<void> {
  applyStatus(await call('vault.status', {}));
}

export function setScreen(screen: Screen): void {
  useSession.setState({ screen });
}

/** True while `generation` is still the current one: the tenant has not changed since. */
export function stillCurrent(generation: number): boolean {
  return useSession.getState().generation === generation;
}

whenLocked(() => {
  if (useSession.getState().status?.state !== 'unlocked') return;
  resetTenantStores();
  void refreshStatus();
});

// The open tenant is not the one on screen (another window of this session switched it): wipe
// what is shown and reload the view from main's answer.
whenTenantChanged(() => {
  // During this window's own switch, the switch applies main's answer itself.
  if (useSession.getState().switching) return;
  resetTenantStores();
  void call('vault.status', {}).then((status) => {
    applyStatus(status);
    useSession.setState((s) => ({ generation: s.generation + 1, tenants: [], screen: 'library' }));
  });
});
