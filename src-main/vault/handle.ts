import { BulkheadError } from '../../src-shared/errors.js';
import { mapSqliteError, type Db } from './sqlite.js';

const mintToken: unique symbol = Symbol('TenantHandle.mint');

let mint: (id: string, name: string, db: Db, key: Buffer) => TenantHandle;
let close: (h: TenantHandle) => void;
let dataKey: (h: TenantHandle) => Buffer;

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

  private constructor(token: typeof mintToken, id: string, name: string, db: Db, key: Buffer) {
    if (token !== mintToken) throw new BulkheadError('INTERNAL', 'tenant handles are created by the vault only');
    this.id = id;
    this.name = name;
    this.#db = db;
    this.#key = key;
  }

  get isOpen(): boolean {
    return this.#db !== null;
  }

  /** The tenant's connection; throws TENANT_CLOSED once the tenant was closed or the vault locked. */
  get db(): Db {
    if (!this.#db) throw closedError();
    return this.#db;
  }

  /** Keeps the name out of logs and error reports that might print the handle. */
  toJSON(): { tenant: string } {
    return { tenant: this.id };
  }

  static {
    // Runs once, inside the class, so these three can touch the private fields; they are
    // exported below for the vault and nobody else (the architecture test checks importers).
    mint = (id, name, db, key) => new TenantHandle(mintToken, id, name, db, key);
    close = (h) => {
      const db = h.#db;
      h.#db = null;
      h.#key?.fill(0);
      h.#key = null;
      if (db?.open) db.close();
    };
    dataKey = (h) => {
      if (!h.#key) throw closedError();
      return h.#key;
    };
  }
}

function closedError(): BulkheadError {
  return new BulkheadError('TENANT_CLOSED', 'this tenant is closed (another tenant was opened, or the vault was locked)');
}

/** @internal vault only: creates a handle around a connection the vault opened. */
export const mintTenantHandle = (id: string, name: string, db: Db, key: Buffer): TenantHandle => mint(id, name, db, key);
/** @internal vault only: closes the connection and zeroes the data key. */
export const closeTenantHandle = (h: TenantHandle): void => close(h);
/** @internal vault only (rekey, export, audit keys): the live data key. */
export const tenantDataKey = (h: TenantHandle): Buffer => dataKey(h);

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
