import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { DisplayName, nameKey, type TenantSummary } from '../../src-shared/tenant.js';
import { errorCode, type AppLog } from '../log/logger.js';
import { appendAudit } from './audit-chain.js';
import { tenantLabel } from './core.js';
import { closeTenantHandle, deriveAuditKey, mintTenantHandle, type AuditBinding, type TenantHandle } from './handle.js';
import { newTenantId } from './ids.js';
import { parseInput } from './input.js';
import { refuseMisleadingName } from './names.js';
import { randomKey } from './keyring.js';
import type { VaultLock } from './lock.js';
import { migrate } from './migrations/migrate.js';
import { tenantMigrations } from './migrations/tenant/index.js';
import { createOwnerOnlyFile, fsyncDir, SIDE_FILE_SUFFIXES, type VaultPaths } from './paths.js';
import { recoverPendingKey, removePendingKey } from './rekey.js';
import type { TenantRecord } from './registry.js';
import { mapSqliteError, openEncryptedDatabase, type Db } from './sqlite.js';
import { TenantSession } from './tenant-session.js';
import { attachFingerprintBook, type FingerprintBook } from './fingerprints.js';

/** What an agency can hand a client after offboarding. */
export interface DeletionReceipt {
  tenantId: string;
  name: string;
  deletedAt: string;
  keyDestroyed: true;
  filesRemoved: string[];
}

export function summary(rec: TenantRecord): TenantSummary {
  return { id: rec.id, name: rec.name, createdAt: rec.createdAt, keyVersion: rec.keyVersion };
}

/**
 * Tenants coming and going: create, rename, delete (crypto-shredding), and opening one into a
 * session. Every open tenant of the vault is in one of `sessions`, so a lock or a delete can
 * close it wherever it is.
 */
export class TenantLifecycle {
  readonly #sessions = new Set<TenantSession>();

  constructor(
    private readonly lock: VaultLock,
    private readonly paths: VaultPaths,
    private readonly log: AppLog,
  ) {}

  create(nameInput: unknown): TenantSummary {
    const reg = this.lock.reg();
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
      rec.wrappedKey = this.lock.ring().wrapTenantKey(rec.id, rec.keyVersion, dataKey);
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

  rename(id: string, nameInput: unknown): TenantSummary {
    const reg = this.lock.reg();
    const rec = this.lock.record(id);
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
  delete(id: string): DeletionReceipt {
    const rec = this.lock.record(id);
    this.closeTenant(rec.id);
    this.lock.reg().destroy(rec.id);
    // A key being rotated in is a key too: it goes with the registry's, before any file.
    removePendingKey(this.paths.tenantFile(rec.id));
    const filesRemoved = this.#removeTenantFiles(rec.id);
    this.log.info('tenant.delete', { tenant: rec.id, files: filesRemoved.length, keyDestroyed: true });
    return { tenantId: rec.id, name: rec.name, deletedAt: new Date().toISOString(), keyDestroyed: true, filesRemoved };
  }

  /** A session holds at most one open tenant (one per window in the app, one per CLI run). */
  openSession(): TenantSession {
    this.lock.reg();
    const session = new TenantSession(
      (id) => this.#openTenant(id),
      (s) => this.#sessions.delete(s),
      (h) => {
        // Closed before its fingerprints were learned (a switch within LEARN_DELAY_MS): learned now,
        // while the file is still open, so the next tenant's answers are checked against it too.
        const book = this.lock.book;
        if (book) learnNow(book, h);
      },
    );
    this.#sessions.add(session);
    return session;
  }

  /** Closes this tenant in every session, so its file can be rewritten or removed. */
  closeTenant(id: string): void {
    for (const s of this.#sessions) if (s.current?.id === id) s.close();
  }

  /** Closes every open tenant and ends every session (before a lock). */
  closeAll(): void {
    for (const s of this.#sessions) s.close();
    this.#sessions.clear();
  }

  #openTenant(id: string): TenantHandle {
    const rec = this.lock.record(id);
    const label = tenantLabel(rec);
    let key = this.lock.ring().unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
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
      const book = this.lock.book;
      if (book) learnSoon(book, handle);
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
      const recovered = recoverPendingKey(this.lock.ring(), this.lock.reg(), rec, file);
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
      return this.lock.ring().wrapAuditKey(id, auditKey);
    } finally {
      auditKey.fill(0);
    }
  }

  #auditBinding(id: string, dataKey: Buffer): AuditBinding {
    const reg = this.lock.reg();
    let slot = reg.audit(id);
    if (!slot) {
      // A tenant created before audit chains existed: start its slot now.
      slot = { wrappedKey: this.#wrappedAuditKey(id, dataKey), head: null };
      reg.putAudit(id, slot);
    }
    return {
      key: this.lock.ring().unwrapAuditKey(id, slot.wrappedKey),
      head: () => this.lock.reg().audit(id)?.head ?? null,
      advance: (h) => this.lock.reg().advanceAuditHead(id, h.seq, h.hash),
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
}

/**
 * After a tenant opens, its first screens are served before its fingerprints are learned: reading
 * ~2,000 sampled passages takes tens of milliseconds on a large tenant, which the launch and the
 * switch would otherwise wait for. A tenant closed sooner is learned at close (see openSession).
 */
const LEARN_DELAY_MS = 400;

/** The handle carries its unlock's book; its own fingerprints are learned shortly after it opens. */
function learnSoon(book: FingerprintBook, handle: TenantHandle): void {
  attachFingerprintBook(handle, book);
  setTimeout(() => learnNow(book, handle), LEARN_DELAY_MS).unref();
}

function learnNow(book: FingerprintBook, handle: TenantHandle): void {
  try {
    if (handle.isOpen && !book.learned(handle.id)) book.learn(handle);
  } catch {
    // a damaged page shows on the tenant's own next read; fingerprints are best effort here
  }
}
