import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import { Passphrase, nameKey, type TenantSummary } from '../../src-shared/tenant.js';
import { errorCode, silentLog, type AppLog } from '../log/logger.js';
import { appendAudit } from './audit-chain.js';
import { backupVault, type BackupResult } from './backup.js';
import type { VaultCore } from './core.js';
import { listTenantFiles, parseInput } from './input.js';
import { summary, TenantLifecycle, type DeletionReceipt } from './lifecycle.js';
import { VaultLock, type InitOptions, type VaultState } from './lock.js';
import { VaultPaths } from './paths.js';
import { rekeyTenant, type RekeyResult } from './rekey.js';
import { mapSqliteError, openEncryptedDatabase } from './sqlite.js';
import type { TenantSession } from './tenant-session.js';
import { notePendingFailure, VaultAudit, type VaultAuditData, type VaultAuditKind, type VaultAuditRecord, type VaultAuditVerdict } from './vault-audit.js';
import { exportTenant, importTenant, type ExportOptions, type ExportResult, type ImportResult } from './transfer.js';

export type { DeletionReceipt } from './lifecycle.js';
export type { InitOptions, VaultState } from './lock.js';
export { TenantSession } from './tenant-session.js';

/**
 * All tenants of one data folder: the keyring, the encrypted registry and the tenant files.
 * Locked, it answers every call with LOCKED and holds no key. A facade over three rooms: the
 * keyring and lock (lock.ts), the tenant lifecycle (lifecycle.ts), and transfer (transfer.ts,
 * backup.ts, rekey.ts, which work on a VaultCore).
 */
export class Vault {
  readonly paths: VaultPaths;
  /** App-wide log: opaque ids and codes only (see log/logger.ts). */
  readonly log: AppLog;
  readonly #lock: VaultLock;
  readonly #tenants: TenantLifecycle;
  readonly #audit: VaultAudit;

  constructor(dataDir: string, opts: { log?: AppLog } = {}) {
    this.paths = new VaultPaths(path.resolve(dataDir));
    this.log = opts.log ?? silentLog;
    this.#lock = new VaultLock(this.paths, this.log);
    this.#tenants = new TenantLifecycle(this.#lock, this.paths, this.log);
    this.#audit = new VaultAudit(
      this.paths.dataDir,
      () => this.#lock.ring(),
      () => this.#lock.reg(),
    );
  }

  // --- keyring and lock -------------------------------------------------------------------

  get state(): VaultState {
    return this.#lock.state;
  }

  async initialize(passphrase: string, opts: InitOptions = {}): Promise<void> {
    await this.#lock.initialize(passphrase, opts);
    this.#audit.append('vault.init');
  }

  async unlock(passphrase: string): Promise<void> {
    if (this.#lock.state === 'unlocked') return;
    try {
      await this.#lock.unlock(passphrase);
    } catch (err) {
      notePendingFailure(this.paths.dataDir, errorCode(err));
      throw err;
    }
    this.#unlocked('passphrase');
  }

  /** Re-wraps the master key under a new passphrase; no tenant file or registry byte changes. */
  async changePassphrase(passphrase: string): Promise<void> {
    await this.#lock.changePassphrase(passphrase);
    this.#audit.append('vault.passphrase.change');
  }

  /** Unlock with the master key the OS keychain held (opt-in; see Keyring.fromKeychain). */
  unlockWithKeychainKey(master: Buffer, check: Buffer): void {
    if (this.#lock.state === 'unlocked') return;
    try {
      this.#lock.unlockWithKeychainKey(master, check);
    } catch (err) {
      notePendingFailure(this.paths.dataDir, errorCode(err));
      throw err;
    }
    this.#unlocked('keychain');
  }

  #unlocked(via: string): void {
    this.#audit.foldPending();
    this.#audit.append('vault.unlock', { via });
  }

  // --- the vault's own audit chain (vault-audit.ts) ---------------------------------------

  /** Records a vault-level event (ids and codes only); the vault must be unlocked. */
  recordVaultEvent(kind: VaultAuditKind, data: VaultAuditData = {}): void {
    this.#audit.append(kind, data);
  }

  /** A failed passphrase check: signed now if the vault is unlocked, else kept for the next unlock. */
  recordFailedUnlock(code: string): void {
    if (this.#lock.state === 'unlocked') this.#audit.append('vault.unlock.failed', { code });
    else notePendingFailure(this.paths.dataDir, code);
  }

  verifyVaultAudit(): VaultAuditVerdict {
    return this.#audit.verify();
  }

  listVaultAudit(): VaultAuditRecord[] {
    return this.#audit.list();
  }

  #authority(op: string, tenant: string | null = null): void {
    this.#audit.append('authority', { op, tenant });
  }

  /** The master key and its check value, for storing in the OS keychain when the user opts in. */
  exportForKeychain(): { master: Buffer; check: Buffer } {
    return this.#lock.ring().exportForKeychain(this.paths.keyring);
  }

  /** Closes every open tenant, zeroes their keys and the master key. */
  lock(): void {
    this.#tenants.closeAll();
    this.#lock.lock();
  }

  /** Seals an app-wide secret (e.g. the model API key) so it never sits in plaintext on disk. */
  sealAppSecret(purpose: string, secret: string): string {
    return this.#lock.ring().sealAppSecret(purpose, secret);
  }

  /** Opens a secret sealed by `sealAppSecret`; null when it was altered or belongs to another vault. */
  openAppSecret(purpose: string, sealed: string): string | null {
    return this.#lock.ring().openAppSecret(purpose, sealed);
  }

  // --- tenant lifecycle -------------------------------------------------------------------

  listTenants(): TenantSummary[] {
    return this.#lock.reg().list().map(summary);
  }

  getTenant(id: string): TenantSummary {
    return summary(this.#lock.record(id));
  }

  /** Finds a tenant by its id or by its name (case and width insensitive), for the CLI. */
  findTenant(ref: string): TenantSummary {
    const reg = this.#lock.reg();
    const rec = reg.get(ref) ?? reg.findByNameKey(nameKey(ref.normalize('NFC').trim()));
    if (!rec) throw new BulkheadError('TENANT_NOT_FOUND', 'no tenant with that name or id');
    return summary(rec);
  }

  createTenant(nameInput: unknown): TenantSummary {
    const t = this.#tenants.create(nameInput);
    this.#authority('tenant.create', t.id);
    return t;
  }

  renameTenant(id: string, nameInput: unknown): TenantSummary {
    const t = this.#tenants.rename(id, nameInput);
    this.#authority('tenant.rename', t.id);
    return t;
  }

  /** Crypto-shredding (see TenantLifecycle.delete). */
  deleteTenant(id: string): DeletionReceipt {
    const r = this.#tenants.delete(id);
    this.#authority('tenant.delete', r.tenantId);
    return r;
  }

  /** A session holds at most one open tenant (one per window in the app, one per CLI run). */
  openSession(): TenantSession {
    return this.#tenants.openSession();
  }

  // --- transfer ---------------------------------------------------------------------------

  /** Re-encrypts a tenant's file under a new data key (see rekey.ts). */
  rekeyTenant(id: string): RekeyResult {
    const r = rekeyTenant(this.#core(), id);
    this.#authority('tenant.rekey', id);
    return r;
  }

  /** One encrypted bundle of a tenant, under a key from an export passphrase (see transfer.ts). */
  async exportTenant(id: string, outFile: string, passphrase: string, opts: ExportOptions = {}): Promise<ExportResult> {
    const r = await exportTenant(this.#core(), id, outFile, parseInput(Passphrase, passphrase), opts);
    this.#authority('tenant.export', id);
    return r;
  }

  /** Brings a bundle's tenant into this vault; refuses, changing nothing, on any mismatch. */
  async importTenant(bundleFile: string, passphrase: string, opts: { rename?: string } = {}): Promise<ImportResult> {
    const r = await importTenant(this.#core(), bundleFile, passphrase, opts);
    this.#authority('tenant.import', r.tenantId);
    return r;
  }

  /** A consistent snapshot of the keyring, the registry and every tenant, while in use. */
  async backup(outDir: string): Promise<BackupResult> {
    const r = await backupVault(this.#core(), outDir);
    this.#authority('backup');
    return r;
  }

  /** The capabilities the lifecycle operations need, for this unlocked vault only. */
  #core(): VaultCore {
    return {
      paths: this.paths,
      keyring: this.#lock.ring(),
      registry: this.#lock.reg(),
      log: this.log,
      record: (id) => this.#lock.record(id),
      closeTenant: (id) => this.#tenants.closeTenant(id),
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

  // --- checks (doctor, verify) ------------------------------------------------------------

  /** Full integrity check of one tenant file, for `doctor --deep`; opens it in a private session. */
  checkTenant(id: string): { ok: boolean; detail: string } {
    const session = this.openSession();
    try {
      const rows = session.open(id).db.pragma('integrity_check') as { integrity_check: string }[];
      const ok = rows.length === 1 && rows[0]?.integrity_check === 'ok';
      return { ok, detail: ok ? 'ok' : rows.map((r) => r.integrity_check).join('; ') };
    } catch (err) {
      const mapped = mapSqliteError(err, 'the tenant');
      if (mapped instanceof BulkheadError) return { ok: false, detail: `${mapped.code}: ${mapped.message}` };
      throw err;
    } finally {
      session.dispose();
    }
  }

  /** Tenant files with no registry row: left by a crash during create or delete; undecryptable. */
  orphanFiles(): string[] {
    const known = new Set(
      this.#lock
        .reg()
        .list()
        .map((r) => r.id),
    );
    return listTenantFiles(this.paths.tenants).filter((f) => !known.has(f.slice(0, f.indexOf('.'))));
  }

  /**
   * For `verify`: tries to open each tenant's file with another tenant's key (each tenant against
   * the next in the list, and the last against the first), which must fail. Opens nothing for
   * use and writes nothing; keys are zeroed after each try.
   */
  crossKeyCheck(): { tenantId: string; keyOf: string; refused: boolean; detail: string }[] {
    const records = this.#lock.reg().list();
    if (records.length < 2) return [];
    return records.map((rec, i) => {
      const other = records[(i + 1) % records.length]!;
      const key = this.#lock.ring().unwrapTenantKey(other.id, other.keyVersion, other.wrappedKey);
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
}
