import crypto from 'node:crypto';
import fs from 'node:fs';
import { BulkheadError } from '../../src-shared/errors.js';
import { mapSqliteError, type Db } from './sqlite.js';
import { TenantCache } from './tenant-cache.js';

/** The latest (seq, hash) of a tenant's audit chain, as recorded outside the tenant's file. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * What the vault hands a handle so the audit chain can be MACed and its head kept in the
 * registry, without the key ever leaving src-main/vault.
 */
export interface AuditBinding {
  key: Buffer;
  head(): AuditHead | null;
  advance(head: AuditHead): void;
}

const mintToken: unique symbol = Symbol('TenantHandle.mint');

let mint: (id: string, name: string, db: Db, key: Buffer, audit: AuditBinding) => TenantHandle;
let close: (h: TenantHandle) => void;
let dataKey: (h: TenantHandle) => Buffer;
let audit: (h: TenantHandle) => AuditBinding;

/**
 * The open tenant: the only way to reach a tenant's data. Every function that reads or writes
 * tenant data takes one, so a call without a scope does not compile. Only the vault mints
 * handles (the constructor needs a token private to this module, and the architecture test
 * allows `mintTenantHandle` in src-main/vault alone). Once closed, every use throws.
 */
export class TenantHandle {
  readonly id: string;
  readonly name: string;
  #db: Db | null;
  #key: Buffer | null;
  #audit: AuditBinding | null;
  /**
   * Every memo kept for this tenant outside its file (see tenant-cache.ts): emptied, its buffers
   * zeroed, when the handle closes.
   */
  readonly cache = new TenantCache();
  /** The file's identity when opened (device and inode), so a swap or delete is noticed. */
  readonly #file: { path: string; dev: number; ino: number } | null;

  private constructor(token: typeof mintToken, id: string, name: string, db: Db, key: Buffer, auditBinding: AuditBinding) {
    if (token !== mintToken) throw new BulkheadError('INTERNAL', 'tenant handles are created by the vault only');
    this.id = id;
    this.name = name;
    this.#db = db;
    this.#key = key;
    this.#audit = auditBinding;
    this.#file = fileIdentity(db);
  }

  get isOpen(): boolean {
    return this.#db !== null;
  }

  /**
   * The tenant's connection; throws TENANT_CLOSED once the tenant was closed or the vault locked.
   * Checks first that the file on disk is still the one opened: SQLite keeps reading and writing
   * a deleted or replaced file through its open descriptor, and whatever it wrote then would
   * vanish at close. One stat(), a few microseconds.
   */
  get db(): Db {
    if (!this.#db) throw closedError();
    if (this.#file && !sameFile(this.#file)) {
      close(this);
      throw new BulkheadError(
        'TENANT_CORRUPT',
        `tenant "${this.name}": its file was deleted or replaced while it was open; it was closed so that nothing more goes into a file that is gone`,
      );
    }
    return this.#db;
  }

  /** Keeps the name out of logs and error reports that might print the handle. */
  toJSON(): { tenant: string } {
    return { tenant: this.id };
  }

  static {
    // Runs once, inside the class, so these three can touch the private fields; they are
    // exported below for the vault and nobody else (the architecture test checks importers).
    mint = (id, name, db, key, auditBinding) => new TenantHandle(mintToken, id, name, db, key, auditBinding);
    close = (h) => {
      const db = h.#db;
      h.#db = null;
      h.#key?.fill(0);
      h.#key = null;
      h.#audit?.key.fill(0);
      h.#audit = null;
      if (db?.open) db.close();
      h.cache.close();
    };
    dataKey = (h) => {
      if (!h.#key) throw closedError();
      return h.#key;
    };
    audit = (h) => {
      if (!h.#audit) throw closedError();
      return h.#audit;
    };
  }
}

function fileIdentity(db: Db): { path: string; dev: number; ino: number } | null {
  if (db.memory) return null;
  const st = fs.statSync(db.name);
  return { path: db.name, dev: st.dev, ino: st.ino };
}

function sameFile(file: { path: string; dev: number; ino: number }): boolean {
  const st = fs.statSync(file.path, { throwIfNoEntry: false });
  return st !== undefined && st.dev === file.dev && st.ino === file.ino;
}

function closedError(): BulkheadError {
  return new BulkheadError('TENANT_CLOSED', 'this tenant is closed (another tenant was opened, or the vault was locked)');
}

/** @internal vault only: creates a handle around a connection the vault opened. */
export const mintTenantHandle = (id: string, name: string, db: Db, key: Buffer, auditBinding: AuditBinding): TenantHandle =>
  mint(id, name, db, key, auditBinding);
/** @internal vault only: closes the connection and zeroes the data key. */
export const closeTenantHandle = (h: TenantHandle): void => close(h);
/** @internal vault only (rekey, export, audit keys): the live data key. */
export const tenantDataKey = (h: TenantHandle): Buffer => dataKey(h);

/** The audit MAC key of a tenant: HKDF of its data key, bound to its id. */
export function deriveAuditKey(dataKeyBytes: Buffer, tenantId: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', dataKeyBytes, Buffer.from(tenantId, 'utf8'), 'bulkhead/audit-key/v1', 32));
}

/** HMAC-SHA256 (hex) of one audit message under the tenant's audit key; the key stays here. */
export function auditMac(h: TenantHandle, message: string): string {
  return crypto.createHmac('sha256', audit(h).key).update(message, 'utf8').digest('hex');
}

/** The head of the tenant's audit chain kept outside its file (null if none was ever kept). */
export function externalAuditHead(h: TenantHandle): AuditHead | null {
  return audit(h).head();
}

/** Records a new head outside the tenant's file, after the record itself committed. */
export function advanceExternalAuditHead(h: TenantHandle, head: AuditHead): void {
  audit(h).advance(head);
}

/**
 * Runs tenant work and turns SQLite's damage and busy codes into errors that name the tenant,
 * since a flipped byte deep in a file only shows when that page is first read.
 */
export function guardTenantErrors<T>(tenant: TenantHandle, work: () => T): T {
  try {
    return work();
  } catch (err) {
    throw mapSqliteError(err, `tenant "${tenant.name}" (${tenant.id})`);
  }
}
