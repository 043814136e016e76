import fs from 'node:fs';
import path from 'node:path';

export const SUPPORTED_EXTENSIONS = ['.txt', '.md', '.markdown', '.html', '.htm', '.pdf', '.docx', '.csv', '.json', '.pptx', '.xlsx', '.odt', '.eml'] as const;

export type WalkEntry = { kind: 'file'; path: string; bytes: number } | { kind: 'problem'; path: string; reason: string };

export function isSupported(file: string): boolean {
  return (SUPPORTED_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}

/**
 * Expands files and folders (recursively) into the files to ingest. Symbolic links are followed
 * once: a folder already visited (a link loop) or a dangling link is reported, not followed
 * again, so a hostile tree cannot make the walk run forever. In folders, files of other types
 * are passed over silently; a file named on its own is reported if its type is unsupported.
 */
export function* walkInputs(inputs: readonly string[], signal?: AbortSignal): Generator<WalkEntry> {
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  function* visit(p: string, named: boolean): Generator<WalkEntry> {
    signal?.throwIfAborted();
    let real: string;
    let st: fs.Stats;
    try {
      real = fs.realpathSync(p);
      st = fs.statSync(real);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? (named ? 'no such file or folder' : 'dangling symbolic link') : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`;
      yield { kind: 'problem', path: p, reason };
      return;
    }
    if (st.isDirectory()) {
      if (seenDirs.has(real)) {
        yield { kind: 'problem', path: p, reason: 'symbolic link loop (folder already visited)' };
        return;
      }
      seenDirs.add(real);
      let names: string[];
      try {
        names = fs.readdirSync(real).sort();
      } catch (err) {
        yield { kind: 'problem', path: p, reason: `cannot list folder (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
        return;
      }
      for (const name of names) yield* visit(path.join(p, name), false);
      return;
    }
    if (!st.isFile()) {
      if (named) yield { kind: 'problem', path: p, reason: 'not a regular file' };
      return;
    }
    if (!isSupported(p)) {
      if (named) yield { kind: 'problem', path: p, reason: `unsupported file type (${path.extname(p) || 'no extension'}); supported: ${SUPPORTED_EXTENSIONS.join(' ')}` };
      return;
    }
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    yield { kind: 'file', path: path.resolve(p), bytes: st.size };
  }

  for (const input of inputs) yield* visit(input, true);
}
