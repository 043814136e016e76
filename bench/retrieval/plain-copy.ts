// Baseline "unencrypted": the very same tenant file, copied byte for byte after the tenant was
// closed, then decrypted in place with `PRAGMA rekey=''` (same pages, same layout, no cipher),
// opened with the same connection settings as a tenant minus the key.
import fs from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import * as sqliteVec from 'sqlite-vec';
import { migrate } from '../../src-main/vault/migrations/migrate.js';
import { tenantMigrations } from '../../src-main/vault/migrations/tenant/index.js';
import { openEncryptedDatabase, type Db } from '../../src-main/vault/sqlite.js';

export function decryptedCopy(source: string, target: string, key: Buffer): void {
  if (fs.existsSync(`${source}-wal`) && fs.statSync(`${source}-wal`).size > 0)
    throw new Error('the tenant must be closed (WAL checkpointed) before it is copied');
  fs.copyFileSync(source, target);
  fs.chmodSync(target, 0o600);
  const db = openEncryptedDatabase(target, key, { mustExist: true, label: 'unencrypted copy' });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode=DELETE'); // rekey is refused in WAL mode
    db.pragma(`rekey=''`);
  } finally {
    db.close();
  }
  const head = Buffer.alloc(16);
  const fd = fs.openSync(target, 'r');
  fs.readSync(fd, head, 0, 16, 0);
  fs.closeSync(fd);
  if (head.toString('latin1') !== 'SQLite format 3\0') throw new Error('the copy is still encrypted');
}

/** The same steps the vault takes on open (pragmas, extension, migrations), minus the cipher. */
export function openPlain(file: string): Db {
  const db = new Database(file, { fileMustExist: true });
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  sqliteVec.load(db);
  for (const p of [
    'temp_store=MEMORY',
    'journal_mode=WAL',
    'synchronous=FULL',
    'foreign_keys=ON',
    'secure_delete=ON',
    'trusted_schema=OFF',
    'busy_timeout=5000',
    'cache_size=-65536',
  ])
    db.pragma(p);
  migrate(db, tenantMigrations, 'unencrypted copy');
  db.prepare("SELECT value FROM tenant_meta WHERE key = 'tenant_id'").pluck().get();
  return db;
}
