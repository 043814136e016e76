import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { errorCode } from '../log/logger.js';
import { tenantLabel, type VaultCore } from './core.js';
import { randomKey, type Keyring } from './keyring.js';
import { fsyncDir, pendingKeyFile, writeFileAtomic } from './paths.js';
import type { Registry, TenantRecord } from './registry.js';
import { besideTarget, checkIntegrity, publish, rekeyCopy, removeDatabaseFiles, removeLeftovers, vacuumInto } from './snapshot.js';
import { mapSqliteError, openEncryptedDatabase, type Db } from './sqlite.js';

const PendingKey = z.object({ keyVersion: z.number().int().min(2), wrappedKey: z.string() }).strict();

export interface RekeyResult {
  tenantId: string;
  fromVersion: number;
  toVersion: number;
}

/**
 * Re-encrypts a tenant under a new random data key. The new key is stored (wrapped) beside the
 * file before anything else; the registry keeps the old one until the new file is proven to
 * open with the new one. Killed at any moment, the file opens with one of the two, and the
 * vault's open path finishes the switch (see `recoverPendingKey`).
 *
 * SQLite3MultipleCiphers' in-place `PRAGMA rekey` is not crash-safe here: the kill tests caught
 * it mid-commit with page 1 (whose salt both keys need) already rewritten, leaving a hot
 * journal no key could replay. So the rekey runs on a private copy: WAL checkpointed, the file
 * switched to rollback-journal mode and locked exclusively, VACUUM INTO a copy beside it, the
 * copy re-keyed and verified, then renamed over the file in one atomic step.
 */
export function rekeyTenant(core: VaultCore, id: string): RekeyResult {
  const rec = core.record(id);
  const label = tenantLabel(rec);
  const file = core.paths.tenantFile(id);
  core.closeTenant(id);
  removeLeftovers(file, 'rekey');
  removeLeftovers(pendingKeyFile(file), 'none');
  const oldKey = core.keyring.unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
  const newKey = randomKey();
  const toVersion = rec.keyVersion + 1;
  const wrapped = core.keyring.wrapTenantKey(rec.id, toVersion, newKey);
  const copy = besideTarget(file, 'rekey');
  const started = Date.now();
  try {
    writeFileAtomic(pendingKeyFile(file), JSON.stringify({ keyVersion: toVersion, wrappedKey: wrapped.toString('base64') }));
    const live = openEncryptedDatabase(file, oldKey, { mustExist: true, label });
    try {
      holdExclusively(live, label);
      vacuumInto(live, copy);
      rekeyCopy(copy, oldKey, newKey, label);
      for (const side of ['-wal', '-shm', '-journal']) fs.rmSync(file + side, { force: true });
      publish(copy, file);
    } finally {
      live.close();
    }
    core.registry.updateKey(rec.id, toVersion, wrapped);
    removePendingKey(file);
  } catch (err) {
    const mapped = mapSqliteError(err, label);
    core.log.error('tenant.rekey.failed', { tenant: id, code: errorCode(mapped) });
    throw mapped;
  } finally {
    oldKey.fill(0);
    newKey.fill(0);
    removeDatabaseFiles(copy);
  }
  core.audit(id, 'key.rotate', { fromVersion: rec.keyVersion, toVersion });
  core.log.info('tenant.rekey', { tenant: id, fromVersion: rec.keyVersion, toVersion, ms: Date.now() - started });
  return { tenantId: id, fromVersion: rec.keyVersion, toVersion };
}

/**
 * Every WAL frame into the file, rollback-journal mode (refused while another connection has
 * the file open), then an exclusive lock kept until this connection closes, so nobody writes
 * to the file between the copy and the rename.
 */
function holdExclusively(db: Db, label: string): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  if (String(db.pragma('journal_mode=DELETE', { simple: true })) !== 'delete') {
    throw new BulkheadError('TENANT_BUSY', `${label}: its file is in use by another process; close it there first`);
  }
  db.pragma('locking_mode=EXCLUSIVE');
  // The first write takes the exclusive lock; locking_mode keeps it.
  db.pragma(`user_version = ${Number(db.pragma('user_version', { simple: true }))}`);
}

/**
 * Called when a tenant's file does not open with the registry's key: if a rotation was cut
 * short after the file took its new key, that key is beside the file. Returns it (and makes it
 * the registry's key) when the file opens with it, else null.
 */
export function recoverPendingKey(keyring: Keyring, registry: Registry, rec: TenantRecord, file: string): Buffer | null {
  const pending = readPendingKey(pendingKeyFile(file));
  if (!pending || pending.keyVersion !== rec.keyVersion + 1) return null;
  // A hot journal means a rekey was interrupted before it committed: the old key must replay it,
  // and no other key may touch the file. (A journal whose header is zeroed is a committed one.)
  if (isHotJournal(`${file}-journal`)) return null;
  const wrapped = Buffer.from(pending.wrappedKey, 'base64');
  const key = keyring.unwrapTenantKey(rec.id, pending.keyVersion, wrapped);
  try {
    checkIntegrity(file, key, tenantLabel(rec), 'DELETE');
  } catch {
    key.fill(0);
    return null;
  }
  registry.updateKey(rec.id, pending.keyVersion, wrapped);
  removePendingKey(file);
  return key;
}

/** SQLite's rollback journal magic: a journal without it at offset 0 replays nothing. */
const JOURNAL_MAGIC = Buffer.from('d9d505f920a163d7', 'hex');

function isHotJournal(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(JOURNAL_MAGIC.length);
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(JOURNAL_MAGIC);
  } finally {
    fs.closeSync(fd);
  }
}

function readPendingKey(file: string): z.infer<typeof PendingKey> | null {
  try {
    const parsed = PendingKey.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function removePendingKey(tenantFile: string): void {
  const pending = pendingKeyFile(tenantFile);
  if (!fs.existsSync(pending)) return;
  fs.rmSync(pending, { force: true });
  fsyncDir(path.dirname(tenantFile));
}
