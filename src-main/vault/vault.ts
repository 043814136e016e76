import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { DisplayName, Passphrase, nameKey, type TenantSummary } from '../../src-shared/tenant.js';
import { appendAudit } from '../audit/audit.js';
import { closeTenantHandle, deriveAuditKey, mintTenantHandle, type AuditBinding, type TenantHandle } from './handle.js';
import { DEFAULT_KDF, Keyring, randomKey, type KdfParams } from './keyring.js';
import { migrate } from './migrations/migrate.js';
import { tenantMigrations } from './migrations/tenant/index.js';
import { createOwnerOnlyFile, fsyncDir, SIDE_FILE_SUFFIXES, TENANT_FILE_SUFFIX, VaultPaths } from './paths.js';
import { Registry, type TenantRecord } from './registry.js';
import { mapSqliteError, openEncryptedDatabase } from './sqlite.js';

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

  constructor(dataDir: string) {
    this.paths = new VaultPaths(path.resolve(dataDir));
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
  }

  async unlock(passphrase: string): Promise<void> {
    if (this.#keyring) return;
    const keyring = await Keyring.unlock(this.paths.keyring, passphrase);
    this.#attach(keyring);
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
      throw mapSqliteError(err, label);
    } finally {
      dataKey.fill(0);
    }
    return summary(rec);
  }

  renameTenant(id: string, nameInput: unknown): TenantSummary {
    const reg = this.#reg();
    const rec = this.#record(id);
    const name = parseInput(DisplayName, nameInput);
    const key = nameKey(name);
    const holder = reg.findByNameKey(key);
    if (holder && holder.id !== rec.id) throw new BulkheadError('NAME_TAKEN', `a tenant named "${name}" already exists`);
    reg.rename(rec.id, name, key);
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
    const filesRemoved = this.#removeTenantFiles(rec.id);
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
    const key = this.#ring().unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
    try {
      const db = openEncryptedDatabase(this.paths.tenantFile(rec.id), key, { mustExist: true, label });
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
      return handle;
    } catch (err) {
      key.fill(0);
      throw mapSqliteError(err, label);
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

function tenantLabel(rec: TenantRecord): string {
  return `tenant "${rec.name}" (${rec.id})`;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** t_ + 128 random bits in lowercase base32: safe in any file system, says nothing of the client. */
function newTenantId(): string {
  const bytes = crypto.randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = 't_';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
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
