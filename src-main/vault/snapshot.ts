import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import { createOwnerOnlyFile, fsyncDir, SIDE_FILE_SUFFIXES } from './paths.js';
import { openEncryptedDatabase, rekeyDatabase, type Db } from './sqlite.js';

/** Row count and content hash of one table: what a manifest promises and an import checks. */
export interface TableDigest {
  rows: number;
  sha256: string;
}

/**
 * A consistent copy of an open database, through VACUUM INTO (SQLite's backup API does not work
 * on these encrypted files). The copy has the source's key and is in rollback-journal mode.
 * It is made owner-only before SQLite writes a byte into it.
 */
export function vacuumInto(db: Db, target: string): void {
  createOwnerOnlyFile(target);
  try {
    db.prepare('VACUUM INTO ?').run(target);
    fsyncFile(target);
  } catch (err) {
    removeDatabaseFiles(target);
    throw err;
  }
}

/**
 * Re-encrypts a closed, rollback-journal database file (a fresh VACUUM INTO copy) under a new
 * key and proves it opens with that key and passes integrity_check.
 */
export function rekeyCopy(file: string, fromKey: Buffer, toKey: Buffer, label: string): void {
  const db = openRaw(file, fromKey, label);
  try {
    rekeyDatabase(db, toKey);
  } finally {
    db.close();
  }
  checkIntegrity(file, toKey, label);
  fsyncFile(file);
}

/** Opens a database file with none of the tenant settings that would switch it to WAL. */
export function openRaw(file: string, key: Buffer, label: string): Db {
  return openEncryptedDatabase(file, key, { mustExist: true, label, journalMode: 'DELETE' });
}

export function checkIntegrity(file: string, key: Buffer, label: string, journalMode: 'WAL' | 'DELETE' = 'DELETE'): void {
  const db = openEncryptedDatabase(file, key, { mustExist: true, label, journalMode });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new BulkheadError('TENANT_CORRUPT', `${label}: integrity check failed (${String(result)})`);
  } finally {
    db.close();
  }
}

/** Every ordinary table (virtual tables are covered by their shadow tables), rows in a fixed order. */
export function tableDigests(db: Db): Record<string, TableDigest> {
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")
    .pluck()
    .all() as string[];
  const out: Record<string, TableDigest> = {};
  for (const table of tables) {
    const quoted = `"${table.replaceAll('"', '""')}"`;
    const width = db.prepare(`SELECT * FROM ${quoted} LIMIT 0`).columns().length;
    const order = Array.from({ length: width }, (_, i) => i + 1).join(', ');
    const hash = crypto.createHash('sha256');
    let rows = 0;
    for (const row of db.prepare(`SELECT * FROM ${quoted} ORDER BY ${order}`).raw().iterate() as IterableIterator<unknown[]>) {
      hash.update(JSON.stringify(row.map(cell)));
      hash.update('\n');
      rows++;
    }
    out[table] = { rows, sha256: hash.digest('hex') };
  }
  return out;
}

function cell(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { b: v.toString('base64') };
  if (typeof v === 'bigint') return { i: v.toString() };
  return v;
}

export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A database file and whatever SQLite left beside it. */
export function removeDatabaseFiles(file: string): void {
  for (const suffix of SIDE_FILE_SUFFIXES) fs.rmSync(file + suffix, { force: true });
}

/** Moves a finished file into place: after this, the target is whole or was never there. */
export function publish(tmp: string, target: string): void {
  fsyncFile(tmp);
  fs.renameSync(tmp, target);
  fsyncDir(path.dirname(target));
}

/** A temporary name beside the target (same file system, so the final rename is atomic). */
export function besideTarget(target: string, tag: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
}

/**
 * Removes what a killed process left beside `target` (temporary copies named by besideTarget
 * with this tag, or writeFileAtomic's temporary file), leaving alone those of live processes.
 */
export function removeLeftovers(target: string, tag: string): void {
  const dir = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = leftoverPid(name, base, tag);
    if (pid !== null && pid !== process.pid && !isAlive(pid)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function leftoverPid(name: string, base: string, tag: string): number | null {
  const copy = name.startsWith(`.${base}.${tag}-`) ? /^(\d+)-/.exec(name.slice(base.length + tag.length + 3)) : null;
  const atomic = name.startsWith(`${base}.`) && name.endsWith('.tmp') ? /^(\d+)\.tmp$/.exec(name.slice(base.length + 1)) : null;
  const m = copy ?? atomic;
  return m ? Number(m[1]) : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
