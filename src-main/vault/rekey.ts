import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { errorCode } from '../audit/logger.js';
import { tenantLabel, type VaultCore } from './core.js';
import { randomKey, type Keyring } from './keyring.js';
import { fsyncDir, pendingKeyFile, writeFileAtomic } from './paths.js';
import type { Registry, TenantRecord } from './registry.js';
import { checkIntegrity } from './snapshot.js';
import { mapSqliteError, openEncryptedDatabase, rekeyDatabase } from './sqlite.js';

const PendingKey = z.object({ keyVersion: z.number().int().min(2), wrappedKey: z.string() }).strict();

export interface RekeyResult {
  tenantId: string;
  fromVersion: number;
  toVersion: number;
}

/**
 * Re-encrypts a tenant under a new random data key. The new key is stored (wrapped) beside the
 * file before any page changes; the registry keeps the old one until the file is proven to open
 * with the new one. Killed at any moment, the file opens with one of the two, and the vault's
 * open path finishes the switch (see `recoverPendingKey`).
 */
export function rekeyTenant(core: VaultCore, id: string): RekeyResult {
  const rec = core.record(id);
  const label = tenantLabel(rec);
  const file = core.paths.tenantFile(id);
  core.closeTenant(id);
  const oldKey = core.keyring.unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
  const newKey = randomKey();
  const toVersion = rec.keyVersion + 1;
  const wrapped = core.keyring.wrapTenantKey(rec.id, toVersion, newKey);
  const started = Date.now();
  try {
    writeFileAtomic(pendingKeyFile(file), JSON.stringify({ keyVersion: toVersion, wrappedKey: wrapped.toString('base64') }));
    const db = openEncryptedDatabase(file, oldKey, { mustExist: true, label });
    try {
      // SQLite3MultipleCiphers cannot rekey in WAL mode: every frame into the file, then a
      // rollback journal, which makes the rekey one transaction.
      db.pragma('wal_checkpoint(TRUNCATE)');
      if (String(db.pragma('journal_mode=DELETE', { simple: true })) !== 'delete') {
        throw new BulkheadError('TENANT_BUSY', `${label}: its file is in use by another process; close it there first`);
      }
      rekeyDatabase(db, newKey);
      db.pragma('journal_mode=WAL');
    } finally {
      db.close();
    }
    checkIntegrity(file, newKey, label, 'WAL');
    core.registry.updateKey(rec.id, toVersion, wrapped);
    removePendingKey(file);
  } catch (err) {
    const mapped = mapSqliteError(err, label);
    core.log.error('tenant.rekey.failed', { tenant: id, code: errorCode(mapped) });
    throw mapped;
  } finally {
    oldKey.fill(0);
    newKey.fill(0);
  }
  core.audit(id, 'key.rotate', { fromVersion: rec.keyVersion, toVersion });
  core.log.info('tenant.rekey', { tenant: id, fromVersion: rec.keyVersion, toVersion, ms: Date.now() - started });
  return { tenantId: id, fromVersion: rec.keyVersion, toVersion };
}

/**
 * Called when a tenant's file does not open with the registry's key: if a rotation was cut
 * short after the file took its new key, that key is beside the file. Returns it (and makes it
 * the registry's key) when the file opens with it, else null.
 */
export function recoverPendingKey(keyring: Keyring, registry: Registry, rec: TenantRecord, file: string): Buffer | null {
  const pending = readPendingKey(pendingKeyFile(file));
  if (!pending || pending.keyVersion !== rec.keyVersion + 1) return null;
  // A hot journal means a rekey was interrupted before it committed: the old key must replay it.
  if (fs.existsSync(`${file}-journal`)) return null;
  const wrapped = Buffer.from(pending.wrappedKey, 'base64');
  const key = keyring.unwrapTenantKey(rec.id, pending.keyVersion, wrapped);
  try {
    checkIntegrity(file, key, tenantLabel(rec), 'WAL');
  } catch {
    key.fill(0);
    return null;
  }
  registry.updateKey(rec.id, pending.keyVersion, wrapped);
  removePendingKey(file);
  return key;
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
