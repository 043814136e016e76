import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3-multiple-ciphers';
import * as sqliteVec from 'sqlite-vec';
import { BulkheadError } from '../../src-shared/errors.js';
import { KEY_BYTES } from './keyring.js';

export type Db = Database.Database;
export type Statement = Database.Statement;

export interface OpenOptions {
  /** false only when the vault has just created the (empty, 0600) file itself. */
  mustExist: boolean;
  /** How the error messages name this file to the user, e.g. `tenant "Acme"`. */
  label: string;
  corruptCode?: 'TENANT_CORRUPT' | 'REGISTRY_CORRUPT';
  /** WAL for live files; DELETE for copies being exported or re-keyed (rekey refuses WAL). */
  journalMode?: 'WAL' | 'DELETE';
}

const HEX = '0123456789abcdef';

/**
 * Under Electron, the driver built for Electron's ABI (`npm run electron:rebuild` puts it in
 * build/electron/, unpacked from the asar when packaged), so the Node build in node_modules
 * stays what `npm test` loads: both runtimes work from one checkout without a rebuild.
 */
export function electronNativeBinding(): string | undefined {
  if (!process.versions.electron) return undefined;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const file = path.join(root.replace(/app\.asar$/, 'app.asar.unpacked'), 'build', 'electron', 'better_sqlite3.node');
  if (!fs.existsSync(file)) {
    throw new BulkheadError('UNAVAILABLE', `the Electron build of the SQLite driver is missing (${file}): run \`npm run electron:rebuild\``);
  }
  return file;
}

let nativeBinding: string | undefined | null = null;

/**
 * `x'<64 hex>'` as bytes: SQLite3MultipleCiphers takes it as a raw key and skips its KDF, and
 * building it in a Buffer keeps the key out of immutable JS strings so it can be zeroed.
 */
function rawKeyLiteral(key: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new BulkheadError('INTERNAL', 'a database key must be 32 bytes');
  const out = Buffer.alloc(3 + KEY_BYTES * 2);
  out[0] = 0x78; // x
  out[1] = 0x27; // '
  for (let i = 0; i < KEY_BYTES; i++) {
    const byte = key[i]!;
    out[2 + 2 * i] = HEX.charCodeAt(byte >> 4);
    out[3 + 2 * i] = HEX.charCodeAt(byte & 15);
  }
  out[out.length - 1] = 0x27;
  return out;
}

/**
 * Opens an encrypted database with the connection settings every vault file needs. A wrong key
 * or a damaged file is an error, never a fresh empty database in its place.
 */
export function openEncryptedDatabase(file: string, key: Buffer, opts: OpenOptions, attempt = 1): Db {
  const corrupt = opts.corruptCode ?? 'TENANT_CORRUPT';
  const inode = inodeOf(file);
  if (opts.mustExist) checkPlausibleSize(file, opts.label, corrupt);
  let db: Db;
  try {
    if (nativeBinding === null) nativeBinding = electronNativeBinding();
    db = new Database(file, { fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
  } catch (err) {
    throw mapSqliteError(err, opts.label, corrupt);
  }
  try {
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    const literal = rawKeyLiteral(key);
    try {
      db.key(literal);
    } finally {
      literal.fill(0);
    }
    // Reading the schema is the first access that decrypts page 1: wrong keys fail here.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    // A key rotation replaces the file by rename; a connection that opened the old one while
    // it was locked would read and write a file no longer there. Open again if that happened.
    if (opts.mustExist && inode !== inodeOf(file)) {
      db.close();
      if (attempt >= 3) throw new BulkheadError('TENANT_BUSY', `${opts.label}: its file kept being replaced while opening`);
      return openEncryptedDatabase(file, key, opts, attempt + 1);
    }
    if (opts.mustExist && isTruncated(db, file)) {
      throw new BulkheadError(corrupt, `${opts.label}: its file is damaged (shorter than the pages it holds)`);
    }
    // Extensions load after the key (newer SQLite refuses some loads before it).
    sqliteVec.load(db);
    db.pragma('temp_store=MEMORY'); // temporary files are not encrypted by this cipher build
    db.pragma(`journal_mode=${opts.journalMode ?? 'WAL'}`);
    db.pragma('synchronous=FULL');
    db.pragma('foreign_keys=ON');
    db.pragma('secure_delete=ON'); // deleted text must not survive in free pages
    db.pragma('trusted_schema=OFF');
    db.pragma('busy_timeout=5000');
    // Decrypted pages stay in SQLite's cache (default 2 MiB): 64 MiB holds a 100,000-chunk
    // tenant's search working set (SimHash codes, int8 vectors, hot full-text pages), so warm
    // searches skip the cipher. Only the pages read are allocated, and one tenant is open at a time.
    db.pragma('cache_size=-65536');
    return db;
  } catch (err) {
    db.close();
    throw mapSqliteError(err, opts.label, corrupt);
  }
}

/** An unencrypted in-memory database with sqlite-vec, for building a reference schema. */
export function openMemoryDatabase(): Db {
  if (nativeBinding === null) nativeBinding = electronNativeBinding();
  const db = new Database(':memory:', nativeBinding ? { nativeBinding } : {});
  sqliteVec.load(db);
  db.pragma('trusted_schema=OFF');
  return db;
}

/**
 * Re-encrypts every page under a new key. SQLite3MultipleCiphers refuses rekey in WAL mode, so
 * the caller must have checkpointed and switched the file to journal_mode=DELETE first.
 */
export function rekeyDatabase(db: Db, key: Buffer): void {
  if (String(db.pragma('journal_mode', { simple: true })) === 'wal') {
    throw new BulkheadError('INTERNAL', 'rekey needs journal_mode=DELETE (SQLite3MultipleCiphers cannot rekey a WAL file)');
  }
  const literal = rawKeyLiteral(key);
  try {
    db.rekey(literal);
  } finally {
    literal.fill(0);
  }
}

/** Encrypted pages are whole multiples of 512 bytes; anything else was cut or padded. */
function checkPlausibleSize(file: string, label: string, corrupt: 'TENANT_CORRUPT' | 'REGISTRY_CORRUPT'): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BulkheadError(corrupt, `${label}: its file is missing`);
    throw new BulkheadError('IO_ERROR', `${label}: cannot read its file (${(err as Error).message})`, { cause: err });
  }
  if (size === 0 || size % 512 !== 0) {
    throw new BulkheadError(corrupt, `${label}: its file is damaged (cut short at ${size} bytes)`);
  }
}

/**
 * A cleanly closed WAL database holds every page in its main file; if the file is shorter than
 * the page count its header announces, it was cut. With frames in the WAL, SQLite decides.
 */
function isTruncated(db: Db, file: string): boolean {
  if (safeSize(`${file}-wal`) > 32) return false;
  const announced = Number(db.prepare('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck().get());
  // Measured after the header was read, and only while the WAL is still empty: another process
  // may have committed (its pages then sit in the WAL) or be checkpointing (page 1 is written
  // before the pages that lengthen the file) since this open began. Two processes ingesting into
  // one tenant hit exactly that and saw a sound file called damaged.
  return safeSize(`${file}-wal`) <= 32 && safeSize(file) < announced;
}

function inodeOf(file: string): number {
  try {
    return fs.statSync(file).ino;
  } catch {
    return -1;
  }
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** A write refused by the storage (full disk, busy or locked file, I/O error), not a bug. */
export function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|BUSY|LOCKED|IOERR)/.test(code);
}

/** Turns SQLite's codes into errors the user can act on, naming the file they concern. */
export function mapSqliteError(err: unknown, label: string, corrupt: 'TENANT_CORRUPT' | 'REGISTRY_CORRUPT' = 'TENANT_CORRUPT'): unknown {
  if (err instanceof BulkheadError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new BulkheadError(corrupt, `${label}: its file is damaged or is not a Bulkhead vault file (${code})`, { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new BulkheadError('TENANT_BUSY', `${label}: its file is in use by another process`, { cause: err });
  }
  if (code === 'SQLITE_FULL') return new BulkheadError('IO_ERROR', `${label}: the disk is full`, { cause: err });
  if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY') {
    return new BulkheadError('IO_ERROR', `${label}: cannot read or write its file (${code})`, { cause: err });
  }
  return err;
}

export interface EngineVersions {
  sqlite: string;
  cipher: string;
  sqliteVec: string;
}

/** Versions of the storage engine as actually loaded, for `doctor`. */
export function engineVersions(): EngineVersions {
  const db = new Database(':memory:');
  try {
    sqliteVec.load(db);
    const row = db.prepare('SELECT sqlite_version() AS sqlite, sqlite3mc_version() AS cipher, vec_version() AS sqliteVec').get() as EngineVersions;
    return { ...row };
  } finally {
    db.close();
  }
}
