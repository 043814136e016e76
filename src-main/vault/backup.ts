import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { errorCode, type AppLog } from '../log/logger.js';
import { tenantLabel, type VaultCore } from './core.js';
import { fsyncDir, TENANT_FILE_SUFFIX, VaultPaths, writeFileAtomic } from './paths.js';
import { Registry } from './registry.js';
import { besideTarget, fsyncFile, removeLeftovers, removeDatabaseFiles, sha256File, vacuumInto } from './snapshot.js';
import { mapSqliteError, openEncryptedDatabase } from './sqlite.js';

const BACKUP_MANIFEST = 'backup-manifest.json';
const ATTEMPTS = 3;

const BackupManifest = z
  .object({
    format: z.literal('bulkhead-backup'),
    version: z.literal(1),
    createdAt: z.string(),
    tenants: z.array(z.string()),
    /** Tenants whose file was damaged at backup time: copied byte for byte, not snapshotted. */
    damaged: z.array(z.string()).optional(),
    files: z.record(z.string().regex(/^(keyring\.json|registry\.bulkhead|tenants\/t_[a-z2-7]{26}\.bulkhead)$/), z.string().regex(/^[0-9a-f]{64}$/)),
  })
  .strict();
type BackupManifest = z.infer<typeof BackupManifest>;

export interface BackupResult {
  dir: string;
  tenants: number;
  files: number;
  /** Tenants whose file is damaged (TENANT_CORRUPT): copied as they are, named, the others backed up. */
  damaged: { tenantId: string; code: string }[];
}

/**
 * A consistent snapshot of the whole vault while it is in use: the keyring, the registry, then
 * each tenant the registry snapshot lists, each through VACUUM INTO (one read transaction per
 * file). The registry goes first, so every audit head in it is at or behind its tenant's copy.
 * Built in a folder beside the target and renamed into place: the target is whole or absent.
 */
export async function backupVault(core: VaultCore, outDir: string): Promise<BackupResult> {
  const out = path.resolve(outDir);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) throw new BulkheadError('FILE_EXISTS', `${out} is not empty; back up into a new folder`);
  removeLeftovers(out, 'partial');
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const staging = besideTarget(out, 'partial');
    try {
      const manifest = await snapshotVault(core, staging);
      if (fs.existsSync(out)) fs.rmdirSync(out);
      fs.renameSync(staging, out);
      fsyncDir(path.dirname(out));
      core.log.info('vault.backup', { tenants: manifest.tenants.length, ms: Date.now() - started });
      const damaged = (manifest.damaged ?? []).map((tenantId) => ({ tenantId, code: 'TENANT_CORRUPT' }));
      return { dir: out, tenants: manifest.tenants.length, files: Object.keys(manifest.files).length, damaged };
    } catch (err) {
      fs.rmSync(staging, { recursive: true, force: true });
      // A key rotated between the registry's snapshot and the tenant's: take it again.
      if (err instanceof KeyMovedError && attempt < ATTEMPTS) continue;
      core.log.error('vault.backup.failed', { code: errorCode(err) });
      throw err instanceof KeyMovedError ? new BulkheadError('TENANT_BUSY', 'tenant keys kept changing during the backup; try again') : err;
    }
  }
}

class KeyMovedError extends Error {}

async function snapshotVault(core: VaultCore, staging: string): Promise<BackupManifest> {
  const paths = new VaultPaths(staging);
  paths.ensureDirs();
  writeFileAtomic(paths.keyring, fs.readFileSync(core.paths.keyring));
  core.registry.snapshotInto(paths.registry);
  const registryKey = core.keyring.registryKey();
  let snapshot: Registry;
  try {
    snapshot = Registry.open(paths.registry, registryKey);
  } finally {
    registryKey.fill(0);
  }
  const tenants: string[] = [];
  const damaged: string[] = [];
  try {
    for (const rec of snapshot.list()) {
      const key = core.keyring.unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
      try {
        const db = openLive(core, rec.id, rec.keyVersion, key, tenantLabel(rec));
        try {
          vacuumInto(db, paths.tenantFile(rec.id));
        } finally {
          db.close();
        }
      } catch (err) {
        // One damaged tenant is named and carried over as it is; it never stops the others' backup.
        if (err instanceof KeyMovedError || !isBulkheadError(mapSqliteError(err, tenantLabel(rec)), 'TENANT_CORRUPT')) throw err;
        removeDatabaseFiles(paths.tenantFile(rec.id));
        if (fs.existsSync(core.paths.tenantFile(rec.id))) fs.copyFileSync(core.paths.tenantFile(rec.id), paths.tenantFile(rec.id), fs.constants.COPYFILE_EXCL);
        damaged.push(rec.id);
        core.log.warn('vault.backup.damaged', { tenant: rec.id });
      } finally {
        key.fill(0);
      }
      tenants.push(rec.id);
    }
  } finally {
    snapshot.close();
  }
  for (const f of fs.readdirSync(staging)) if (/-(wal|shm|journal)$/.test(f)) fs.rmSync(path.join(staging, f));
  const files: Record<string, string> = {};
  files['keyring.json'] = await sha256File(paths.keyring);
  files['registry.bulkhead'] = await sha256File(paths.registry);
  for (const id of tenants) if (fs.existsSync(paths.tenantFile(id))) files[`tenants/${id}${TENANT_FILE_SUFFIX}`] = await sha256File(paths.tenantFile(id));
  const manifest: BackupManifest = {
    format: 'bulkhead-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    tenants,
    ...(damaged.length ? { damaged } : {}),
    files,
  };
  writeFileAtomic(path.join(staging, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const rel of Object.keys(files)) fsyncFile(path.join(staging, rel));
  fsyncDir(paths.tenants);
  fsyncDir(staging);
  return manifest;
}

function openLive(core: VaultCore, id: string, keyVersion: number, key: Buffer, label: string): ReturnType<typeof openEncryptedDatabase> {
  try {
    return openEncryptedDatabase(core.paths.tenantFile(id), key, { mustExist: true, label });
  } catch (err) {
    const live = core.registry.get(id);
    if (errorCode(err) === 'TENANT_CORRUPT' && (live === undefined || live.keyVersion !== keyVersion)) throw new KeyMovedError(label);
    throw err;
  }
}

export interface RestoreResult {
  dataDir: string;
  tenants: number;
  /** Where the data folder that was there before went, when --force moved it aside. */
  movedAside: string | null;
}

/**
 * Puts a backup back as a data folder. Every file is checked against the backup's manifest
 * first; the folder is assembled beside the target, stale -wal/-shm/-journal files are removed
 * (SQLite would replay them onto the restored files), and it is renamed into place. An existing
 * vault is only replaced with `force`, and then moved aside, never deleted.
 */
export async function restoreBackup(backupDir: string, dataDir: string, opts: { force?: boolean; log?: AppLog } = {}): Promise<RestoreResult> {
  const from = path.resolve(backupDir);
  const to = path.resolve(dataDir);
  const manifest = await readBackupManifest(from);
  const target = new VaultPaths(to);
  if (fs.existsSync(target.keyring) && !opts.force) {
    throw new BulkheadError('FILE_EXISTS', `${to} already holds a vault; restore elsewhere, or pass --force to move it aside`);
  }
  const staging = besideTarget(to, 'restore');
  try {
    const paths = new VaultPaths(staging);
    paths.ensureDirs();
    for (const rel of Object.keys(manifest.files)) {
      const dest = path.join(staging, rel);
      removeDatabaseFiles(dest);
      fs.copyFileSync(path.join(from, rel), dest, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(dest, 0o600);
      fsyncFile(dest);
    }
    fsyncDir(paths.tenants);
    fsyncDir(staging);
    let movedAside: string | null = null;
    if (fs.existsSync(to)) {
      movedAside = `${to}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      fs.renameSync(to, movedAside);
    }
    fs.renameSync(staging, to);
    fsyncDir(path.dirname(to));
    opts.log?.info('vault.restore', { tenants: manifest.tenants.length, movedAside: movedAside !== null });
    return { dataDir: to, tenants: manifest.tenants.length, movedAside };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

async function readBackupManifest(dir: string): Promise<BackupManifest> {
  let parsed;
  try {
    parsed = BackupManifest.safeParse(JSON.parse(fs.readFileSync(path.join(dir, BACKUP_MANIFEST), 'utf8')));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BulkheadError(code === 'ENOENT' ? 'INPUT_INVALID' : 'BUNDLE_INVALID', `${dir} is not a Bulkhead backup (no readable ${BACKUP_MANIFEST})`);
  }
  if (!parsed.success) throw new BulkheadError('BUNDLE_INVALID', `the backup manifest in ${dir} is damaged or from an unknown version`);
  for (const [rel, sha] of Object.entries(parsed.data.files)) {
    const file = path.join(dir, rel);
    if (!fs.existsSync(file) || (await sha256File(file)) !== sha) {
      throw new BulkheadError('BUNDLE_INVALID', `the backup is damaged: ${rel} is missing or differs from its manifest`);
    }
  }
  return parsed.data;
}
