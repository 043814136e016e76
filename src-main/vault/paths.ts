import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import { TenantId } from '../../src-shared/tenant.js';

export const APP_DIR_NAME = 'Bulkhead';
export const TENANT_FILE_SUFFIX = '.bulkhead';
/** Files SQLite keeps beside a database; all of them hold tenant pages. */
export const SIDE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'] as const;

/**
 * Where Electron's `app.getPath('userData')` points for an app named Bulkhead, so the CLI and
 * the desktop app find the same vault without Electron being loaded.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), APP_DIR_NAME);
}

/** `--data-dir` wins, then BULKHEAD_DATA_DIR, then the per-user default. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.BULKHEAD_DATA_DIR;
  return path.resolve(chosen && chosen.length > 0 ? chosen : defaultDataDir(env));
}

export class VaultPaths {
  readonly keyring: string;
  readonly registry: string;
  readonly tenants: string;

  constructor(readonly dataDir: string) {
    this.keyring = path.join(dataDir, 'keyring.json');
    this.registry = path.join(dataDir, 'registry.bulkhead');
    this.tenants = path.join(dataDir, 'tenants');
  }

  /** Creates the folders owner-only (0700) and tightens them if they already exist. */
  ensureDirs(): void {
    for (const dir of [this.dataDir, this.tenants]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      refuseSymlink(dir === this.dataDir ? null : dir);
      fs.chmodSync(dir, 0o700);
    }
  }

  /**
   * The tenant's file, built only from a validated random id and checked to stay inside the
   * tenants folder, so no name or crafted id can point it anywhere else.
   */
  tenantFile(id: string): string {
    if (!TenantId.safeParse(id).success) throw new BulkheadError('UNSAFE_PATH', 'not a valid tenant id');
    const file = path.join(this.tenants, `${id}${TENANT_FILE_SUFFIX}`);
    if (path.dirname(file) !== this.tenants) throw new BulkheadError('UNSAFE_PATH', 'tenant path escapes the tenants folder');
    refuseSymlink(file);
    return file;
  }
}

/** A data key being rotated in, wrapped, kept beside the tenant's file until the rotation ends. */
export function pendingKeyFile(tenantFile: string): string {
  return `${tenantFile}.newkey`;
}

function refuseSymlink(file: string | null): void {
  if (file === null) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (st.isSymbolicLink()) throw new BulkheadError('UNSAFE_PATH', `refusing a symbolic link in the vault: ${path.basename(file)}`);
}

/** Writes a file so that a crash leaves either the old or the new content, never a mix. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Creates an empty owner-only file, failing if anything already sits at that path. */
export function createOwnerOnlyFile(file: string): void {
  fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
}
