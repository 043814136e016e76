import crypto from 'node:crypto';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import type { KdfParams } from '../vault/keyring.js';
import { Keyring } from '../vault/keyring.js';
import type { TenantSession, Vault, VaultState } from '../vault/vault.js';
import { grantAuthority, type VaultAuthority } from './authority.js';
import { namesTenant, type CallScope } from './call-scope.js';
import { ConsoleHost, type SessionMember, type SessionOptions } from './host.js';
import type { Keychain } from './keychain.js';
import { UploadStore } from './uploads.js';

export type { SessionOptions } from './host.js';

/** What a handler works on: the open tenant and a signal that fires when it stops being open. */
export interface TenantScope {
  handle: TenantHandle;
  signal: AbortSignal;
}

/**
 * One window's state in the main process: at most one open tenant, its presentation mode, its
 * uploads, over the vault of its host (host.ts). Every switch or lock aborts the work still running
 * for the previous tenant, so nothing it produces late can reach the next one, and clears the
 * uploads waiting to be ingested. A window of a host (a browser tab, an Electron window) counts
 * as unlocked only once it gave the passphrase itself: a new tab cannot borrow another's unlock.
 * `new ConsoleSession(options)` makes a session with a host of its own (the CLI, tests).
 */
export class ConsoleSession implements SessionMember {
  readonly host: ConsoleHost;
  readonly uploads: UploadStore;
  readonly #sole: boolean;
  #unlockedIn: object | null = null;
  #tenants: TenantSession | null = null;
  #scope: AbortController = new AbortController();
  #presentation: string | null = null;
  #disposed = false;
  readonly #confirmations = new Map<string, (allow: boolean) => void>();

  constructor(opts: SessionOptions | ConsoleHost) {
    this.#sole = !(opts instanceof ConsoleHost);
    this.host = opts instanceof ConsoleHost ? opts : new ConsoleHost(opts);
    this.uploads = new UploadStore(this.host.vault.paths.dataDir);
    this.host.members.add(this);
  }

  get vault(): Vault {
    return this.host.vault;
  }

  get kdf(): Omit<KdfParams, 'salt'> | undefined {
    return this.host.kdf;
  }

  get idleLockSeconds(): number {
    return this.host.idleLockSeconds;
  }

  get keychain(): Keychain {
    return this.host.keychain;
  }

  /** The vault as this window sees it: unlocked only if this window unlocked it (or is alone). */
  get state(): VaultState {
    const state = this.vault.state;
    return state === 'unlocked' && !this.unlocked ? 'locked' : state;
  }

  get unlocked(): boolean {
    if (this.#disposed || this.vault.state !== 'unlocked') return false;
    return this.#sole || this.#unlockedIn === this.host.unlockEpoch;
  }

  /** LOCKED (or NOT_INITIALIZED) unless this window is unlocked. */
  requireUnlocked(): void {
    const state = this.state;
    if (state === 'uninitialized') throw new BulkheadError('NOT_INITIALIZED', 'this data folder has no vault yet');
    if (state !== 'unlocked') throw new BulkheadError('LOCKED', 'the vault is locked');
  }

  /**
   * Admits a call of this scope (see call-scope.ts) before its handler runs. `view` is the tenant
   * the caller's window shows (null: none); undefined only for in-process callers, which have no view.
   */
  admit(scope: CallScope, view: string | null | undefined): void {
    if (scope === 'public') return;
    this.requireUnlocked();
    if (namesTenant(scope) && view !== undefined) {
      const open = this.current?.id ?? null;
      if (view !== open && !(view === null && open === null)) {
        throw new BulkheadError('TENANT_CHANGED', 'this view shows another client than the one open; it reloads');
      }
    }
    if (scope === 'admin' || scope === 'tenant-admin') this.authority();
  }

  /** The vault-wide authority: only for this window unlocked and not presenting (see authority.ts). */
  authority(): VaultAuthority {
    return grantAuthority(this);
  }

  async initialize(passphrase: string): Promise<void> {
    await this.vault.initialize(passphrase, this.kdf ? { kdf: this.kdf } : {});
    this.#unlockedIn = this.host.unlockEpoch;
  }

  /**
   * Unlocks with the passphrase. When another window unlocked the vault already, the passphrase
   * is still checked against the keyring on disk: it is what ends presentation mode.
   */
  async unlock(passphrase: string): Promise<void> {
    if (this.vault.state === 'uninitialized') throw new BulkheadError('NOT_INITIALIZED', 'this data folder has no vault yet');
    if (this.vault.state === 'unlocked') await this.checkPassphrase(passphrase);
    else await this.vault.unlock(passphrase);
    this.#unlockedIn = this.host.unlockEpoch;
    this.#endPresentation();
  }

  /** Keychain unlock: never while any window presents (it would end nothing, but open everything). */
  unlockWithKeychain(): void {
    if (this.vault.state === 'uninitialized') throw new BulkheadError('NOT_INITIALIZED', 'this data folder has no vault yet');
    if (this.host.presenting) throw new BulkheadError('PRESENTATION_MODE', 'presentation mode: enter the passphrase first');
    this.keychain.unlock(this.vault);
    this.#unlockedIn = this.host.unlockEpoch;
  }

  /** Every call counts as activity for the idle lock. */
  touch(): void {
    this.host.touch();
  }

  /** The window is gone: its tenant closes. A session with a host of its own also locks it. */
  dispose(): void {
    if (this.#sole) this.host.dispose();
    else this.closeTenant();
    this.#disposed = true;
    this.host.members.delete(this);
  }

  get presenting(): boolean {
    return this.#presentation !== null;
  }

  get presentationTenant(): string | null {
    return this.#presentation;
  }

  get current(): TenantHandle | null {
    const h = this.#tenants?.current ?? null;
    return h?.isOpen ? h : null;
  }

  /** The open tenant, or NO_TENANT_OPEN / LOCKED. */
  scope(): TenantScope {
    if (!this.unlocked) throw new BulkheadError('LOCKED', 'the vault is locked');
    const handle = this.current;
    if (!handle) throw new BulkheadError('NO_TENANT_OPEN', 'open a client first');
    return { handle, signal: this.#scope.signal };
  }

  open(tenantId: string): TenantHandle {
    this.requireUnlocked();
    if (this.#presentation && tenantId !== this.#presentation) {
      throw new BulkheadError('PRESENTATION_MODE', 'presentation mode: enter the passphrase to switch clients');
    }
    // A client that does not exist is refused before anything is closed: a failed switch
    // leaves the open client open (found by the contract fuzzing).
    this.vault.getTenant(tenantId);
    this.#endScope();
    this.#tenants ??= this.vault.openSession();
    return this.#tenants.open(tenantId);
  }

  /** Closes the open tenant if it is this one (before deleting it). */
  closeIf(tenantId: string): void {
    if (this.current?.id === tenantId) this.#closeTenant();
  }

  enterPresentation(tenantId: string): void {
    this.open(tenantId);
    this.#presentation = tenantId;
    this.vault.recordVaultEvent('presentation.start', { tenant: tenantId });
  }

  /** Presentation mode ends only with the passphrase, checked against the keyring on disk. */
  async exitPresentation(passphrase: string): Promise<void> {
    await this.checkPassphrase(passphrase);
    this.#endPresentation();
  }

  #endPresentation(): void {
    const tenant = this.#presentation;
    this.#presentation = null;
    if (tenant && this.vault.state === 'unlocked') this.vault.recordVaultEvent('presentation.end', { tenant });
  }

  /** Checks the passphrase against the keyring on disk; a wrong one is a failed unlock, recorded. */
  async checkPassphrase(passphrase: string): Promise<void> {
    let ring: Keyring;
    try {
      ring = await Keyring.unlock(this.vault.paths.keyring, passphrase);
    } catch (err) {
      this.vault.recordFailedUnlock(err instanceof BulkheadError ? err.code : 'ERROR');
      throw err;
    }
    ring.destroy();
  }

  /**
   * Asks the user (through an event of the running stream) whether the model may write; the
   * answer comes back with chat.confirm. A switch or lock answers no.
   */
  askConfirmation(emit: (confirmId: string) => void, signal: AbortSignal): Promise<boolean> {
    const confirmId = crypto.randomBytes(12).toString('hex');
    return new Promise((resolve) => {
      const done = (allow: boolean): void => {
        this.#confirmations.delete(confirmId);
        signal.removeEventListener('abort', no);
        resolve(allow);
      };
      const no = (): void => done(false);
      if (signal.aborted) return resolve(false);
      signal.addEventListener('abort', no, { once: true });
      this.#confirmations.set(confirmId, done);
      emit(confirmId);
    });
  }

  answerConfirmation(confirmId: string, allow: boolean): boolean {
    const done = this.#confirmations.get(confirmId);
    done?.(allow);
    return done !== undefined;
  }

  requireNotPresenting(): void {
    if (this.#presentation) throw new BulkheadError('PRESENTATION_MODE', 'presentation mode: enter the passphrase first');
  }

  /** Locks the vault for every window. Presentation mode outlives a lock: only the passphrase ends it. */
  lock(): void {
    this.host.lock();
  }

  /** This window's tenant closes and its work ends (the vault locks, or the window went away). */
  closeTenant(): void {
    this.#closeTenant();
    this.#tenants?.dispose();
    this.#tenants = null;
  }

  /** After an unlock with the passphrase. */
  endPresentation(): void {
    this.#endPresentation();
  }

  #closeTenant(): void {
    this.#endScope();
    this.#tenants?.close();
  }

  #endScope(): void {
    for (const done of [...this.#confirmations.values()]) done(false);
    this.#scope.abort(new BulkheadError('CANCELLED', 'the client was closed'));
    this.#scope = new AbortController();
    this.uploads.discardAll();
  }
}

const PALETTE = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#0c8599', '#e8590c', '#5c7cfa', '#c2255c', '#5f3dc4', '#087f5b', '#b08900', '#1971c2'];

/** A stable colour per tenant, from its random id (so it says nothing of the client). */
export function tenantColour(randomId: string): string {
  const digest = crypto.createHash('sha256').update(randomId).digest();
  return PALETTE[digest[0]! % PALETTE.length]!;
}
