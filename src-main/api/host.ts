import { startBackgroundReader } from '../vault/background-reader.js';
import type { KdfParams } from '../vault/keyring.js';
import { Vault } from '../vault/vault.js';
import { startVectorWorker } from '../retrieval/vector-worker.js';
import type { AppLog } from '../log/logger.js';
import { Keychain, type KeychainBackend } from './keychain.js';
import { UploadStore } from './uploads.js';
import { resolveModelsDir } from '../models/library.js';
import { disposeModelRuntime, useModelLibrary } from '../models/shared.js';

export interface SessionOptions {
  dataDir: string;
  /** Argon2id cost for a new vault; tests pass a cheap one, the app never does. */
  kdf?: Omit<KdfParams, 'salt'>;
  idleLockSeconds?: number;
  /** Electron's safeStorage; none on the web host. */
  keychain?: KeychainBackend;
  /** The app log (opaque ids, never names or content); silent when absent. */
  log?: AppLog;
  /** The model library (default: BULKHEAD_MODELS_DIR, else <dataDir>/models). */
  modelsDir?: string;
}

/** What a window's session needs to know of the host that made it. */
export interface SessionMember {
  /** Closes this session's open tenant and ends its work (the vault is locking). */
  closeTenant(): void;
  readonly presenting: boolean;
}

/**
 * One launch of the console (the web host, the Electron app): the vault and its keyring, shared by
 * every window, and the windows' sessions. Each window or tab has a session of its own (its own
 * open tenant, presentation mode and uploads, see session.ts); locking locks them all.
 */
export class ConsoleHost {
  readonly vault: Vault;
  readonly kdf: Omit<KdfParams, 'salt'> | undefined;
  readonly idleLockSeconds: number;
  readonly keychain: Keychain;
  readonly members = new Set<SessionMember>();
  #lastActivity = Date.now();
  /** A new object on every lock: a session unlocked before it holds an old one. */
  #unlockEpoch: object = {};
  readonly #idleTimer: NodeJS.Timeout;

  constructor(opts: SessionOptions) {
    this.vault = new Vault(opts.dataDir, opts.log ? { log: opts.log } : {});
    new UploadStore(this.vault.paths.dataDir).sweep();
    this.kdf = opts.kdf;
    this.keychain = new Keychain(this.vault.paths.dataDir, opts.keychain ?? null);
    this.idleLockSeconds = opts.idleLockSeconds ?? 600;
    useModelLibrary(opts.modelsDir ?? resolveModelsDir(this.vault.paths.dataDir));
    // Their threads load now, so the first searches after a switch of client do not wait for them.
    startBackgroundReader();
    startVectorWorker();
    // The renderer locks on idle input; main also locks when no call came at all (a closed tab).
    this.#idleTimer = setInterval(() => this.#lockIfIdle(), Math.min(5000, this.idleLockSeconds * 250));
    this.#idleTimer.unref();
  }

  get unlockEpoch(): object {
    return this.#unlockEpoch;
  }

  /** Every call counts as activity for the idle lock. */
  touch(): void {
    this.#lastActivity = Date.now();
  }

  /** True while any window presents a tenant (keychain unlock is then refused everywhere). */
  get presenting(): boolean {
    for (const m of this.members) if (m.presenting) return true;
    return false;
  }

  /** Closes every window's tenant, zeroes every key; every session must unlock again. */
  lock(): void {
    for (const m of this.members) m.closeTenant();
    this.vault.lock();
    this.#unlockEpoch = {};
  }

  /** Locks and stops the idle timer: the launch is over. */
  dispose(): void {
    clearInterval(this.#idleTimer);
    this.lock();
    void disposeModelRuntime();
  }

  #lockIfIdle(): void {
    if (this.vault.state === 'unlocked' && Date.now() - this.#lastActivity > (this.idleLockSeconds + Math.min(30, this.idleLockSeconds / 2)) * 1000)
      this.lock();
  }
}
