// Every option and argument a user types is checked here, at the boundary, before any command
// runs: a number is a whole number in its range, a path is the kind of path the command needs.
// Each parser is given to commander (`.option(flags, text, parser, default)`), and what it refuses
// is INPUT_INVALID (exit 2) naming the option, never a database or file-system error later on.
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';

export interface Range {
  min: number;
  max: number;
}

/** Offsets and sequence numbers: anything SQLite can hold as an integer index. */
export const ANY_COUNT: Range = { min: 0, max: 1_000_000_000 };
/** Row ids (documents, conversations). */
export const ROW_ID: Range = { min: 1, max: Number.MAX_SAFE_INTEGER };

export function wholeNumber(what: string, range: Range): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
      throw new BulkheadError('INPUT_INVALID', `${what} is a whole number from ${range.min} to ${range.max} (got "${value.slice(0, 40)}")`);
    }
    return n;
  };
}

/** A file that must exist and be a regular file (a bundle to import). */
export function existingFile(what: string): (value: string) => string {
  return (value) => {
    const st = statOrNull(value);
    if (!st) throw new BulkheadError('INPUT_INVALID', `${what}: no such file: ${value}`);
    if (!st.isFile()) throw new BulkheadError('INPUT_INVALID', `${what}: not a regular file (a folder, a device or a pipe): ${value}`);
    return value;
  };
}

/** A folder that must exist (a backup to restore). */
export function existingFolder(what: string): (value: string) => string {
  return (value) => {
    const st = statOrNull(value);
    if (!st) throw new BulkheadError('INPUT_INVALID', `${what}: no such folder: ${value}`);
    if (!st.isDirectory()) throw new BulkheadError('INPUT_INVALID', `${what}: not a folder: ${value}`);
    return value;
  };
}

/** A path to create: its parent folder must exist, and the path itself must not be a file of another kind. */
export function pathToCreate(what: string, kind: 'file' | 'folder'): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new BulkheadError('INPUT_INVALID', `${what} needs a path`);
    const parent = statOrNull(path.dirname(path.resolve(value)));
    if (!parent?.isDirectory()) throw new BulkheadError('INPUT_INVALID', `${what}: the folder to create it in does not exist: ${path.dirname(value)}`);
    const st = statOrNull(value);
    if (st && kind === 'folder' && !st.isDirectory()) throw new BulkheadError('INPUT_INVALID', `${what}: exists and is not a folder: ${value}`);
    if (st && kind === 'file') throw new BulkheadError('FILE_EXISTS', `${what}: already exists: ${value}`);
    return value;
  };
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}
