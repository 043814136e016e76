import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { errorCode, silentLog, type AppLog } from '../log/logger.js';
import { DisplayName, Passphrase, nameKey, type TenantSummary } from '../../src-shared/tenant.js';
import { refuseMisleadingName } from './names.js';
import { appendAudit } from './audit-chain.js';
import { closeTenantHandle, deriveAuditKey, mintTenantHandle, type AuditBinding, type TenantHandle } from './handle.js';
import { DEFAULT_KDF, Keyring, randomKey, type KdfParams } from './keyring.js';
import { migrate } from './migrations/migrate.js';
import { tenantMigrations } from './migrations/tenant/index.js';
import { createOwnerOnlyFile, fsyncDir, SIDE_FILE_SUFFIXES, TENANT_FILE_SUFFIX, VaultPaths } from './paths.js';
import { Registry, type TenantRecord } from './registry.js';
import { tenantLabel, type VaultCore } from './core.js';
import { newTenantId } from './ids.js';
import { backupVault, type BackupResult } from './backup.js';
import { exportTenant, importTenant, type ExportOptions, type ExportResult, type ImportResult } from './transfer.js';
import { recoverPendingKey, rekeyTenant, removePendingKey, type RekeyResult } from './rekey.js';
import { mapSqliteError, openEncryptedDatabase, type Db } from './sqlite.js';

export type VaultState = 'uninitialized' | 'locked' | 'unlocked';

/** What an agency can hand a client after offboarding. */
export interface DeletionReceipt {
  tenantId: string;
  name: string;
  deletedAt: string;
  keyDestroyed: true;
  filesRemoved: string[];
}

export interface InitOptions {
  /** Argon2id cost; the CLI and app always use DEFAULT_KDF, tests pass a cheaper one. */
  kdf?: Omit<KdfParams, 'salt'>;
}

/**
 * All tenants of one data folder: the keyring, the encrypted registry and the tenant files.
 * Locked, it answers every call with LOCKED and holds no key.
 */
export class Vault {
  readonly paths: VaultPaths;
  #keyring: Keyring | null = null;
  #registry: Registry | null = null;
  readonly #sessions = new Set<TenantSession>();
  /** App-wide log: opaque ids and codes only (see log/logger.ts). */
  readonly log: AppLog;

  constructor(dataDir: string, opts: { log?: AppLog } = {}) {
    this.paths = new VaultPaths(path.resolve(dataDir));
    this.log = opts.log ?? silentLog;
  }

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
    await this.#ring().changePassphrase(this.paths.keyring, pass, cost);
    this.log.info('vault.passphrase.change');
  }

  /** Re-encrypts a tenant's file under a new data key (see rekey.ts). */
  rekeyTenant(id: string): RekeyResult {
    return rekeyTenant(this.#core(), id);
  }

  /** One encrypted bundle of a tenant, under a key from an export passphrase (see transfer.ts). */
  exportTenant(id: string, outFile: string, passphrase: string, opts: ExportOptions = {}): Promise<ExportResult> {
    return exportTenant(this.#core(), id, outFile, parseInput(Passphrase, passphrase), opts);
  }

  /** Brings a bundle's tenant into this vault; refuses, changing nothing, on any mismatch. */
  importTenant(bundleFile: string, passphrase: string, opts: { rename?: string } = {}): Promise<ImportResult> {
    return importTenant(this.#core(), bundleFile, passphrase, opts);
  }

  /** A consistent snapshot of the keyring, the registry and every tenant, while in use. */
  backup(outDir: string): Promise<BackupResult> {
    return backupVault(this.#core(), outDir);
  }

  /** The capabilities the lifecycle operations need, for this unlocked vault only. */
  #core(): VaultCore {
    return {
      paths: this.paths,
      keyring: this.#ring(),
      registry: this.#reg(),
      log: this.log,
      record: (id) => this.#record(id),
      closeTenant: (id) => {
        for (const s of this.#sessions) if (s.current?.id === id) s.close();
      },
      audit: (id, kind, data) => {
        const session = this.openSession();
        try {
          appendAudit(session.open(id), kind, data);
        } finally {
          session.dispose();
        }
      },
    };
  }

  /** Unlock with the master key the OS keychain held (opt-in; see Keyring.fromKeychain). */
  unlockWithKeychainKey(master: Buffer, check: Buffer): void {
    if (this.#keyring) return;
    this.#attach(Keyring.fromKeychain(this.paths.keyring, master, check));
  }

  /** The master key and its check value, for storing in the OS keychain when the user opts in. */
  exportForKeychain(): { master: Buffer; check: Buffer } {
    return this.#ring().exportForKeychain(this.paths.keyring);
  }

  /** Closes every open tenant, zeroes their keys and the master key. */
  lock(): void {
    if (this.#keyring) this.log.info('vault.lock');
    for (const s of this.#sessions) s.close();
    this.#sessions.clear();
    this.#registry?.close();
    this.#registry = null;
    this.#keyring?.destroy();
    this.#keyring = null;
  }

  listTenants(): TenantSummary[] {
    return this.#reg().list().map(summary);
  }

  getTenant(id: string): TenantSummary {
    return summary(this.#record(id));
  }

  /** Finds a tenant by its id or by its name (case and width insensitive), for the CLI. */
  findTenant(ref: string): TenantSummary {
    const reg = this.#reg();
    const rec = reg.get(ref) ?? reg.findByNameKey(nameKey(ref.normalize('NFC').trim()));
    if (!rec) throw new BulkheadError('TENANT_NOT_FOUND', 'no tenant with that name or id');
    return summary(rec);
  }

  createTenant(nameInput: unknown): TenantSummary {
    const reg = this.#reg();
    const name = parseInput(DisplayName, nameInput);
    refuseMisleadingName(name, reg.list());
    const key = nameKey(name);
    if (reg.findByNameKey(key)) throw new BulkheadError('NAME_TAKEN', `a tenant named "${name}" already exists`);
    const rec: TenantRecord = { id: newTenantId(), name, createdAt: new Date().toISOString(), keyVersion: 1, wrappedKey: Buffer.alloc(0) };
    const label = tenantLabel(rec);
    const file = this.paths.tenantFile(rec.id);
    const dataKey = randomKey();
    try {
      createOwnerOnlyFile(file);
      const db = openEncryptedDatabase(file, dataKey, { mustExist: false, label });
      try {
        migrate(db, tenantMigrations, label);
        db.prepare("INSERT INTO tenant_meta (key, value) VALUES ('tenant_id', ?), ('created_at', ?)").run(rec.id, rec.createdAt);
      } finally {
        db.close();
      }
      rec.wrappedKey = this.#ring().wrapTenantKey(rec.id, rec.keyVersion, dataKey);
      // The registry row comes last: until it exists the file is an orphan nobody can open.
      reg.insert(rec, key, { wrappedKey: this.#wrappedAuditKey(rec.id, dataKey), head: null });
    } catch (err) {
      this.#removeTenantFiles(rec.id);
      this.log.error('tenant.create.failed', { tenant: rec.id, code: errorCode(err) });
      throw mapSqliteError(err, label);
    } finally {
      dataKey.fill(0);
    }
    this.log.info('tenant.create', { tenant: rec.id });
    return summary(rec);
  }

  renameTenant(id: string, nameInput: unknown): TenantSummary {
    const reg = this.#reg();
    const rec = this.#record(id);
    const name = parseInput(DisplayName, nameInput);
    refuseMisleadingName(name, reg.list(), rec.id);
    const key = nameKey(name);
    const holder = reg.findByNameKey(key);
    if (holder && holder.id !== rec.id) throw new BulkheadError('NAME_TAKEN', `a tenant named "${name}" already exists`);
    reg.rename(rec.id, name, key);
    this.log.info('tenant.rename', { tenant: rec.id });
    return summary({ ...rec, name });
  }

  /**
   * Crypto-shredding: the wrapped key is destroyed first, so even if removing the files fails
   * midway, what is left can never be decrypted again.
   */
  deleteTenant(id: string): DeletionReceipt {
    const rec = this.#record(id);
    for (const s of this.#sessions) if (s.current?.id === rec.id) s.close();
    this.#reg().destroy(rec.id);
    // A key being rotated in is a key too: it goes with the registry's, before any file.
    removePendingKey(this.paths.tenantFile(rec.id));
    const filesRemoved = this.#removeTenantFiles(rec.id);
    this.log.info('tenant.delete', { tenant: rec.id, files: filesRemoved.length, keyDestroyed: true });
    return { tenantId: rec.id, name: rec.name, deletedAt: new Date().toISOString(), keyDestroyed: true, filesRemoved };
  }

  /** A session holds at most one open tenant (one per window in the app, one per CLI run). */
  openSession(): TenantSession {
    this.#reg();
    const session = new TenantSession((id) => this.#openTenant(id), (s) => this.#sessions.delete(s));
    this.#sessions.add(session);
    return session;
  }

  /** Full integrity check of one tenant file, for `doctor --deep`; opens it in a private session. */
  checkTenant(id: string): { ok: boolean; detail: string } {
    const session = this.openSession();
    try {
      const rows = session.open(id).db.pragma('integrity_check') as { integrity_check: string }[];
      const ok = rows.length === 1 && rows[0]?.integrity_check === 'ok';
      return { ok, detail: ok ? 'ok' : rows.map((r) => r.integrity_check).join('; ') };
    } catch (err) {
      if (err instanceof BulkheadError) return { ok: false, detail: `${err.code}: ${err.message}` };
      throw err;
    } finally {
      session.dispose();
    }
  }

  /** Tenant files with no registry row: left by a crash during create or delete; undecryptable. */
  orphanFiles(): string[] {
    const known = new Set(this.#reg().list().map((r) => r.id));
    return listTenantFiles(this.paths.tenants).filter((f) => !known.has(f.slice(0, f.indexOf('.'))));
  }

  /**
   * For `verify`: tries to open each tenant's file with another tenant's key (each tenant against
   * the next in the list, and the last against the first), which must fail. Opens nothing for
   * use and writes nothing; keys are zeroed after each try.
   */
  crossKeyCheck(): { tenantId: string; keyOf: string; refused: boolean; detail: string }[] {
    const records = this.#reg().list();
    if (records.length < 2) return [];
    return records.map((rec, i) => {
      const other = records[(i + 1) % records.length]!;
      const key = this.#ring().unwrapTenantKey(other.id, other.keyVersion, other.wrappedKey);
      try {
        const db = openEncryptedDatabase(this.paths.tenantFile(rec.id), key, { mustExist: true, label: 'a tenant' });
        db.close();
        return { tenantId: rec.id, keyOf: other.id, refused: false, detail: "opened with another tenant's key" };
      } catch (err) {
        const code = err instanceof BulkheadError ? err.code : ((err as { code?: string }).code ?? 'ERROR');
        return { tenantId: rec.id, keyOf: other.id, refused: true, detail: `refused (${code})` };
      } finally {
        key.fill(0);
      }
    });
  }

  /** Seals an app-wide secret (e.g. the model API key) so it never sits in plaintext on disk. */
  sealAppSecret(purpose: string, secret: string): string {
    return this.#ring().sealAppSecret(purpose, secret);
  }

  /** Opens a secret sealed by `sealAppSecret`; null when it was altered or belongs to another vault. */
  openAppSecret(purpose: string, sealed: string): string | null {
    return this.#ring().openAppSecret(purpose, sealed);
  }

  #openTenant(id: string): TenantHandle {
    const rec = this.#record(id);
    const label = tenantLabel(rec);
    let key = this.#ring().unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
    try {
      let db: Db;
      ({ db, key } = this.#openTenantFile(rec, key));
      let audit: AuditBinding;
      try {
        migrate(db, tenantMigrations, label);
        const owner = db.prepare("SELECT value FROM tenant_meta WHERE key = 'tenant_id'").pluck().get();
        if (owner !== rec.id) throw new BulkheadError('TENANT_CORRUPT', `${label}: its file belongs to another tenant`);
        audit = this.#auditBinding(rec.id, key);
      } catch (err) {
        db.close();
        throw err;
      }
      const handle = mintTenantHandle(rec.id, rec.name, db, key, audit);
      try {
        appendAudit(handle, 'tenant.open');
      } catch (err) {
        closeTenantHandle(handle);
        throw err;
      }
      this.log.info('tenant.open', { tenant: rec.id });
      return handle;
    } catch (err) {
      key.fill(0);
      this.log.error('tenant.open.failed', { tenant: rec.id, code: errorCode(mapSqliteError(err, label)) });
      throw mapSqliteError(err, label);
    }
  }

  /** Opens with the registry's key, or finishes a key rotation that was cut short. */
  #openTenantFile(rec: TenantRecord, key: Buffer): { db: Db; key: Buffer } {
    const label = tenantLabel(rec);
    const file = this.paths.tenantFile(rec.id);
    try {
      return { db: openEncryptedDatabase(file, key, { mustExist: true, label }), key };
    } catch (err) {
      const mapped = mapSqliteError(err, label);
      if (!isBulkheadError(mapped, 'TENANT_CORRUPT')) throw mapped;
      const recovered = recoverPendingKey(this.#ring(), this.#reg(), rec, file);
      if (!recovered) throw mapped;
      key.fill(0);
      this.log.warn('tenant.rekey.recovered', { tenant: rec.id });
      return { db: openEncryptedDatabase(file, recovered, { mustExist: true, label }), key: recovered };
    }
  }

  /** The audit key is derived once from the data key and kept wrapped, so it outlives a rekey. */
  #wrappedAuditKey(id: string, dataKey: Buffer): Buffer {
    const auditKey = deriveAuditKey(dataKey, id);
    try {
      return this.#ring().wrapAuditKey(id, auditKey);
    } finally {
      auditKey.fill(0);
    }
  }

  #auditBinding(id: string, dataKey: Buffer): AuditBinding {
    const reg = this.#reg();
    let slot = reg.audit(id);
    if (!slot) {
      // A tenant created before audit chains existed: start its slot now.
      slot = { wrappedKey: this.#wrappedAuditKey(id, dataKey), head: null };
      reg.putAudit(id, slot);
    }
    return {
      key: this.#ring().unwrapAuditKey(id, slot.wrappedKey),
      head: () => this.#reg().audit(id)?.head ?? null,
      advance: (h) => this.#reg().advanceAuditHead(id, h.seq, h.hash),
    };
  }

  #removeTenantFiles(id: string): string[] {
    const base = this.paths.tenantFile(id);
    const removed: string[] = [];
    for (const suffix of SIDE_FILE_SUFFIXES) {
      try {
        fs.unlinkSync(base + suffix);
        removed.push(path.basename(base + suffix));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    fsyncDir(this.paths.tenants);
    return removed;
  }

  #attach(keyring: Keyring): void {
    try {
      this.#registry = this.#openRegistry(keyring);
      this.#keyring = keyring;
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

  #record(id: string): TenantRecord {
    const rec = this.#reg().get(id);
    if (!rec) throw new BulkheadError('TENANT_NOT_FOUND', 'no tenant with that id');
    return rec;
  }

  #ring(): Keyring {
    if (!this.#keyring) throw lockedError(this.state);
    return this.#keyring;
  }

  #reg(): Registry {
    if (!this.#registry) throw lockedError(this.state);
    return this.#registry;
  }
}

/**
 * The one open tenant of a window or a CLI run. Opening another tenant closes the current one
 * first and zeroes its key, so two tenants are never open side by side in one session.
 */
export class TenantSession {
  #current: TenantHandle | null = null;
  #disposed = false;

  constructor(
    private readonly opener: (id: string) => TenantHandle,
    private readonly onDispose: (s: TenantSession) => void,
  ) {}

  get current(): TenantHandle | null {
    return this.#current;
  }

  open(id: string): TenantHandle {
    if (this.#disposed) throw new BulkheadError('LOCKED', 'this session ended when the vault was locked');
    this.close();
    this.#current = this.opener(id);
    return this.#current;
  }

  close(): void {
    const h = this.#current;
    this.#current = null;
    if (h) closeTenantHandle(h);
  }

  dispose(): void {
    this.close();
    this.#disposed = true;
    this.onDispose(this);
  }
}

function lockedError(state: VaultState): BulkheadError {
  return state === 'uninitialized'
    ? new BulkheadError('NOT_INITIALIZED', 'no vault in this data folder yet: run `bulkhead init` first')
    : new BulkheadError('LOCKED', 'the vault is locked');
}

function summary(rec: TenantRecord): TenantSummary {
  return { id: rec.id, name: rec.name, createdAt: rec.createdAt, keyVersion: rec.keyVersion };
}

function listTenantFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith(TENANT_FILE_SUFFIX));
  } catch {
    return [];
  }
}

function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new BulkheadError('INPUT_INVALID', r.error.issues[0]?.message ?? 'invalid input');
  return r.data;
}
