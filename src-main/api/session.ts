import crypto from 'node:crypto';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import type { KdfParams } from '../vault/keyring.js';
import { Keyring } from '../vault/keyring.js';
import { Vault, type TenantSession } from '../vault/vault.js';
import { startBackgroundReader } from '../vault/background-reader.js';
import { startVectorWorker } from '../retrieval/vector-worker.js';
import type { AppLog } from '../log/logger.js';
import { Keychain, type KeychainBackend } from './keychain.js';
import { UploadStore } from './uploads.js';

export interface SessionOptions {
  dataDir: string;
  /** Argon2id cost for a new vault; tests pass a cheap one, the app never does. */
  kdf?: Omit<KdfParams, 'salt'>;
  idleLockSeconds?: number;
  /** Electron's safeStorage; none on the web host. */
  keychain?: KeychainBackend;
  /** The app log (opaque ids, never names or content); silent when absent. */
  log?: AppLog;
}

/** What a handler works on: the open tenant and a signal that fires when it stops being open. */
export interface TenantScope {
  handle: TenantHandle;
  signal: AbortSignal;
}

/**
 * One window's state in the main process: the vault and at most one open tenant. Every switch
 * or lock aborts the work still running for the previous tenant, so nothing it produces late
 * can reach the next one, and clears the uploads waiting to be ingested.
 */
export class ConsoleSession {
  readonly vault: Vault;
  readonly uploads: UploadStore;
  readonly kdf: Omit<KdfParams, 'salt'> | undefined;
  readonly idleLockSeconds: number;
  readonly keychain: Keychain;
  #tenants: TenantSession | null = null;
  #scope: AbortController = new AbortController();
  #presentation: string | null = null;
  #lastActivity = Date.now();
  readonly #confirmations = new Map<string, (allow: boolean) => void>();
  readonly #idleTimer: NodeJS.Timeout;

  constructor(opts: SessionOptions) {
    this.vault = new Vault(opts.dataDir, opts.log ? { log: opts.log } : {});
    this.uploads = new UploadStore(this.vault.paths.dataDir);
    this.uploads.sweep();
    this.kdf = opts.kdf;
    this.keychain = new Keychain(this.vault.paths.dataDir, opts.keychain ?? null);
    this.idleLockSeconds = opts.idleLockSeconds ?? 600;
    // Their threads load now, so the first searches after a switch of client do not wait for them.
    startBackgroundReader();
    startVectorWorker();
    // The renderer locks on idle input; main also locks when no call came at all (a closed tab).
    this.#idleTimer = setInterval(() => this.#lockIfIdle(), Math.min(5000, this.idleLockSeconds * 250));
    this.#idleTimer.unref();
  }

  /** Every call counts as activity for the idle lock. */
  touch(): void {
    this.#lastActivity = Date.now();
  }

  #lockIfIdle(): void {
    if (this.vault.state === 'unlocked' && Date.now() - this.#lastActivity > (this.idleLockSeconds + Math.min(30, this.idleLockSeconds / 2)) * 1000) this.lock();
  }

  /** Locks and stops the idle timer: the session is over. */
  dispose(): void {
    clearInterval(this.#idleTimer);
    this.lock();
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
    if (this.vault.state !== 'unlocked') throw new BulkheadError('LOCKED', 'the vault is locked');
    const handle = this.current;
    if (!handle) throw new BulkheadError('NO_TENANT_OPEN', 'open a client first');
    return { handle, signal: this.#scope.signal };
  }

  open(tenantId: string): TenantHandle {
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
  }

  /** Presentation mode ends only with the passphrase, checked against the keyring on disk. */
  async exitPresentation(passphrase: string): Promise<void> {
    await this.checkPassphrase(passphrase);
    this.#presentation = null;
  }

  async checkPassphrase(passphrase: string): Promise<void> {
    const ring = await Keyring.unlock(this.vault.paths.keyring, passphrase);
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

  /** Presentation mode outlives a lock: only the passphrase ends it, not the keychain. */
  lock(): void {
    this.#closeTenant();
    this.#tenants = null;
    this.vault.lock();
  }

  /** After an unlock with the passphrase. */
  endPresentation(): void {
    this.#presentation = null;
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
