import fs from 'node:fs';
import path from 'node:path';
import { SUPPORTED_EXTENSIONS } from './parsers/index.js';

export { SUPPORTED_EXTENSIONS };

export type WalkEntry =
  | { kind: 'file'; path: string; realPath: string; bytes: number }
  | { kind: 'problem'; path: string; code: WalkProblemCode; reason: string };

export type WalkProblemCode = 'OUTSIDE_FOLDER' | 'NOT_FOUND' | 'UNREADABLE' | 'UNSUPPORTED_TYPE';

export interface WalkOptions {
  signal?: AbortSignal;
  /** Follow symbolic links whose target lies outside the folder given (off: they are refused). */
  followLinks?: boolean;
}

export function isSupported(file: string): boolean {
  return SUPPORTED_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/**
 * Expands files and folders (recursively) into the files to ingest, each with its real path.
 * A folder brings in only what is inside it: a symbolic link in it whose target lies outside the
 * folder that was named (another client's folder, /etc) is reported as OUTSIDE_FOLDER, not read,
 * unless `followLinks` says so. A path named on its own is taken as given, link or not. A folder
 * already visited (a link loop) or a dangling link is reported, not followed again, so a hostile
 * tree cannot make the walk run forever. In folders, files of other types are passed over
 * silently; a file named on its own is reported if its type is unsupported.
 */
export function* walkInputs(inputs: readonly string[], options: WalkOptions | AbortSignal = {}): Generator<WalkEntry> {
  const { signal, followLinks = false } = options instanceof AbortSignal ? { signal: options } : options;
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  function* visit(p: string, root: string | null): Generator<WalkEntry> {
    signal?.throwIfAborted();
    const named = root === null;
    let real: string;
    let st: fs.Stats;
    try {
      real = fs.realpathSync(p);
      st = fs.statSync(real);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'ELOOP'
          ? 'symbolic link loop'
          : code === 'ENOENT'
            ? named
              ? 'no such file or folder'
              : 'dangling symbolic link'
            : code === 'EACCES'
              ? 'permission denied'
              : `cannot read (${code ?? 'error'})`;
      yield { kind: 'problem', path: p, code: code === 'ENOENT' ? 'NOT_FOUND' : 'UNREADABLE', reason };
      return;
    }
    if (root !== null && !followLinks && !isInside(real, root)) {
      yield {
        kind: 'problem',
        path: p,
        code: 'OUTSIDE_FOLDER',
        reason: 'a symbolic link to a place outside the folder given (use --follow-links to follow it)',
      };
      return;
    }
    if (st.isDirectory()) {
      if (seenDirs.has(real)) {
        yield { kind: 'problem', path: p, code: 'UNREADABLE', reason: 'symbolic link loop (folder already visited)' };
        return;
      }
      seenDirs.add(real);
      let names: string[];
      try {
        names = fs.readdirSync(real).sort();
      } catch (err) {
        yield { kind: 'problem', path: p, code: 'UNREADABLE', reason: `cannot list folder (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
        return;
      }
      for (const name of names) yield* visit(path.join(p, name), root ?? real);
      return;
    }
    if (!st.isFile()) {
      if (named) yield { kind: 'problem', path: p, code: 'UNREADABLE', reason: 'not a regular file' };
      return;
    }
    if (!isSupported(p)) {
      if (named)
        yield {
          kind: 'problem',
          path: p,
          code: 'UNSUPPORTED_TYPE',
          reason: `unsupported file type (${path.extname(p) || 'no extension'}); supported: ${SUPPORTED_EXTENSIONS.join(' ')}`,
        };
      return;
    }
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    yield { kind: 'file', path: path.resolve(p), realPath: real, bytes: st.size };
  }

  for (const input of inputs) yield* visit(input, null);
}

function isInside(real: string, root: string): boolean {
  const rel = path.relative(root, real);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}
