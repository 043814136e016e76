// Where the console stages a file between its upload and its ingestion: <data>/uploads, one
// folder per store, named by the owning process (p<pid>-<random>). What is staged there is
// sealed (see api/uploads.ts) under a key that lives only in that process's memory; a folder
// whose process is gone (a crash, a kill) is removed at the next unlock by any entry point.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';

export const STAGING_DIR = 'uploads';
const OWNED = /^p(\d{1,10})-[0-9a-f]{8,32}$/;

export function stagingRoot(dataDir: string): string {
  return path.join(dataDir, STAGING_DIR);
}

/** A new owner-only folder for one store of this process. */
export function newStagingDir(dataDir: string): string {
  const root = stagingRoot(dataDir);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  if (fs.lstatSync(root).isSymbolicLink()) throw new BulkheadError('UNSAFE_PATH', 'the uploads folder is a symbolic link');
  fs.chmodSync(root, 0o700);
  const dir = path.join(root, `p${process.pid}-${crypto.randomBytes(8).toString('hex')}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/**
 * Removes every staging folder whose process is gone, and anything else under the uploads
 * folder (plaintext staging of older versions included); a live process's folder stays.
 * Returns how many entries were removed.
 */
export function sweepStagedUploads(dataDir: string): number {
  const root = stagingRoot(dataDir);
  let names: string[];
  try {
    if (fs.lstatSync(root).isSymbolicLink()) {
      fs.unlinkSync(root);
      return 1;
    }
    names = fs.readdirSync(root);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = OWNED.exec(name);
    if (m && isAlive(Number(m[1]))) continue;
    fs.rmSync(path.join(root, name), { recursive: true, force: true });
    removed++;
  }
  if (removed === names.length) fs.rmSync(root, { recursive: true, force: true });
  return removed;
}

/** Entries under the uploads folder no live process owns (relative to the data folder), for `verify`. */
export function leftoverStagedUploads(dataDir: string): string[] {
  const root = stagingRoot(dataDir);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      const m = OWNED.exec(n);
      return !(m && isAlive(Number(m[1])));
    })
    .map((n) => path.join(STAGING_DIR, n));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
