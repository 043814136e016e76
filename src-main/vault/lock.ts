import fs from 'node:fs';
import { BulkheadError } from '../../src-shared/errors.js';
import { Passphrase } from '../../src-shared/tenant.js';
import { errorCode, type AppLog } from '../log/logger.js';
import { DEFAULT_KDF, Keyring, type KdfParams } from './keyring.js';
import { listTenantFiles, parseInput } from './input.js';
import type { VaultPaths } from './paths.js';
import { Registry, type TenantRecord } from './registry.js';
import { sweepStagedUploads } from './staging.js';
import { FingerprintBook } from './fingerprints.js';

export type VaultState = 'uninitialized' | 'locked' | 'unlocked';

export interface InitOptions {
  /** Argon2id cost; the CLI and app always use DEFAULT_KDF, tests pass a cheaper one. */
  kdf?: Omit<KdfParams, 'salt'>;
}

/**
 * The keyring and the registry of one data folder, and whether they are open. Locked, every
 * accessor answers LOCKED (or NOT_INITIALIZED) and no key is held.
 */
export class VaultLock {
  #keyring: Keyring | null = null;
  #registry: Registry | null = null;
  #book: FingerprintBook | null = null;

  constructor(
    private readonly paths: VaultPaths,
    private readonly log: AppLog,
  ) {}

  get state(): VaultState {
    if (this.#keyring) return 'unlocked';
    return Keyring.exists(this.paths.keyring) ? 'locked' : 'uninitialized';
  }

  async initialize(passphrase: string, opts: InitOptions = {}): Promise<void> {
    const pass = parseInput(Passphrase, passphrase);
    this.paths.ensureDirs();
    const keyring = await Keyring.create(this.paths.keyring, pass, opts.kdf ?? DEFAULT_KDF);
    this.#attach(keyring);
    this.log.info('vault.init');
  }

  async unlock(passphrase: string): Promise<void> {
    if (this.#keyring) return;
    let keyring: Keyring;
    try {
      keyring = await Keyring.unlock(this.paths.keyring, passphrase);
    } catch (err) {
      this.log.warn('vault.unlock.refused', { code: errorCode(err) });
      throw err;
    }
    this.#attach(keyring);
    this.log.info('vault.unlock');
  }

  /** Re-wraps the master key under a new passphrase; no tenant file or registry byte changes. */
  async changePassphrase(passphrase: string): Promise<void> {
    const pass = parseInput(Passphrase, passphrase);
    const { salt: _salt, ...cost } = Keyring.readParams(this.paths.keyring);
    await this.ring().changePassphrase(this.paths.keyring, pass, cost);
    this.log.info('vault.passphrase.change');
  }

  /** Unlock with the master key the OS keychain held (opt-in; see Keyring.fromKeychain). */
  unlockWithKeychainKey(master: Buffer, check: Buffer): void {
    if (this.#keyring) return;
    this.#attach(Keyring.fromKeychain(this.paths.keyring, master, check));
  }

  /** Closes the registry and zeroes the master key (the caller closes the tenants first). */
  lock(): void {
    if (this.#keyring) this.log.info('vault.lock');
    this.#registry?.close();
    this.#registry = null;
    this.#book?.destroy();
    this.#book = null;
    this.#keyring?.destroy();
    this.#keyring = null;
  }

  /** This unlock's keyed fingerprints of the tenants (see fingerprints.ts); null while locked. */
  get book(): FingerprintBook | null {
    return this.#book;
  }

  ring(): Keyring {
    if (!this.#keyring) throw lockedError(this.state);
    return this.#keyring;
  }

  reg(): Registry {
    if (!this.#registry) throw lockedError(this.state);
    return this.#registry;
  }

  record(id: string): TenantRecord {
    const rec = this.reg().get(id);
    if (!rec) throw new BulkheadError('TENANT_NOT_FOUND', 'no tenant with that id');
    return rec;
  }

  #attach(keyring: Keyring): void {
    try {
      this.#registry = this.#openRegistry(keyring);
      this.#keyring = keyring;
      this.#book = new FingerprintBook(() => this.reg().list());
      // What a killed console left staged (sealed, its key gone with it) goes at any unlock.
      sweepStagedUploads(this.paths.dataDir);
    } catch (err) {
      keyring.destroy();
      throw err;
    }
  }

  #openRegistry(keyring: Keyring): Registry {
    if (!fs.existsSync(this.paths.registry) && listTenantFiles(this.paths.tenants).length > 0) {
      // Never answer a missing registry with an empty one: the tenants would look deleted.
      throw new BulkheadError('REGISTRY_CORRUPT', 'the tenant registry is missing while tenant files exist; restore it from a backup');
    }
    this.paths.ensureDirs();
    const key = keyring.registryKey();
    try {
      return Registry.open(this.paths.registry, key);
    } finally {
      key.fill(0);
    }
  }
}

function lockedError(state: VaultState): BulkheadError {
  return state === 'uninitialized'
    ? new BulkheadError('NOT_INITIALIZED', 'no vault in this data folder yet: run `bulkhead init` first')
    : new BulkheadError('LOCKED', 'the vault is locked');
}
