// The controls of `verify` that look for the real tenants' own text where it must not be: in
// files (contents as UTF-8 and UTF-16, and names) under the data folder and the OS temp folder,
// and inside another tenant's passages, notes and conversations. What they look for (names,
// excerpts, keyed fingerprints) stays in memory; a finding names files and opaque tenant ids,
// never the text that matched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { foldWords, type FingerprintBook } from '../vault/fingerprints.js';
import type { TenantHandle } from '../vault/handle.js';
import { sharedDocumentIds } from '../vault/shared-material.js';
import { leftoverStagedUploads } from '../vault/staging.js';

/** Excerpts of a tenant's passages looked for in files, and how long each is. */
const EXCERPTS = 8;
const EXCERPT_CHARS = 40;
/** Files in the temp folder larger than this are passed over (named in the control's words). */
export const TEMP_FILE_LIMIT = 64 * 1024 * 1024;
const MIN_NEEDLE_BYTES = 5;

export interface TenantNeedles {
  id: string;
  /** Plaintext needles for file contents (name and excerpts): memory only. */
  bytes: Buffer[];
  /** The folded name, for file names. */
  foldedName: string;
}

/** The name and a spread of passage excerpts of the open tenant, as byte needles. */
export function needlesOf(tenant: TenantHandle): TenantNeedles {
  const texts = [tenant.name];
  const shared = sharedDocumentIds(tenant);
  const count = Number(tenant.db.prepare('SELECT count(*) FROM chunks').pluck().get());
  const step = Math.max(1, Math.floor(count / EXCERPTS));
  const rows = tenant.db.prepare('SELECT document_id AS doc, text FROM chunks ORDER BY id LIMIT 1 OFFSET ?');
  for (let i = 0; i < Math.min(EXCERPTS, count); i++) {
    const row = rows.get(i * step) as { doc: number; text: string } | undefined;
    if (!row || shared.has(row.doc)) continue;
    const excerpt = excerptOf(row.text);
    if (excerpt) texts.push(excerpt);
  }
  const bytes = texts
    .map((t) => t.normalize('NFC'))
    .filter((t) => Buffer.byteLength(t) >= MIN_NEEDLE_BYTES)
    .flatMap((t) => [Buffer.from(t, 'utf8'), Buffer.from(t, 'utf16le')]);
  return { id: tenant.id, bytes, foldedName: foldWords(tenant.name).join(' ') };
}

/** A run of EXCERPT_CHARS from the middle of a passage, starting at a word, on one line. */
function excerptOf(text: string): string | null {
  const mid = Math.floor(text.length / 2);
  const start = text.slice(mid).search(/(?<=\s)\S/u);
  const from = start < 0 ? 0 : mid + start;
  const piece = text.slice(from, from + EXCERPT_CHARS);
  if (piece.length < EXCERPT_CHARS || /[\r\n]/.test(piece)) return null;
  return piece;
}

export interface FileFinding {
  /** Shown path: relative to the data folder, or `temp:` and relative to the temp folder. */
  where: string;
  tenantId: string | null;
  what: 'content' | 'name' | 'staged upload';
}

/** Every file (not following links) under `dir`, with its size; unreadable entries are passed over. */
function walk(dir: string, skip: ReadonlySet<string>): { file: string; size: number }[] {
  const out: { file: string; size: number }[] = [];
  const visit = (d: string): void => {
    if (skip.has(d)) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) {
        try {
          out.push({ file: p, size: fs.statSync(p).size });
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  visit(dir);
  return out;
}

const SCAN_CHUNK = 1 << 20;

/** Which needle set occurs in the file (streamed, across piece boundaries); null for none. */
function fileHolds(file: string, sets: readonly TenantNeedles[]): string | null {
  const all = sets.flatMap((s) => s.bytes);
  if (all.length === 0) return null;
  const overlap = Math.max(...all.map((n) => n.length)) - 1;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(SCAN_CHUNK + overlap);
    let carried = 0;
    for (;;) {
      const read = fs.readSync(fd, buf, carried, SCAN_CHUNK, null);
      if (read === 0) return null;
      const view = buf.subarray(0, carried + read);
      for (const s of sets) if (s.bytes.some((n) => view.includes(n))) return s.id;
      carried = Math.min(overlap, view.length);
      view.copy(buf, 0, view.length - carried);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function nameHolds(file: string, sets: readonly TenantNeedles[]): string | null {
  const folded = ` ${foldWords(path.basename(file)).join(' ')} `;
  for (const s of sets) if (s.foldedName.length >= 4 && folded.includes(` ${s.foldedName} `)) return s.id;
  return null;
}

/**
 * Files under the data folder and the OS temp folder holding a tenant's name or excerpts (as
 * UTF-8 or UTF-16) in their content or its name in their file name, and staged uploads no live
 * process owns. Returns one finding per file, and the number of files looked at.
 */
export function scanFilesForTenants(dataDir: string, sets: readonly TenantNeedles[], tempDir = os.tmpdir()): { findings: FileFinding[]; files: number } {
  const findings: FileFinding[] = [];
  for (const where of leftoverStagedUploads(dataDir)) findings.push({ where, tenantId: null, what: 'staged upload' });
  const data = path.resolve(dataDir);
  const temp = path.resolve(tempDir);
  // The data folder is scanned whole; the temp folder around it (in tests, the data folder
  // sits in it), without the data folder again.
  const roots: [string, (f: string) => string, Set<string>][] = [
    [data, (f) => path.relative(data, f), new Set()],
    [temp, (f) => `temp:${path.relative(temp, f)}`, new Set([data])],
  ];
  let files = 0;
  for (const [root, show, skip] of roots) {
    const inTemp = root === temp;
    for (const { file, size } of walk(root, skip)) {
      files++;
      const byName = nameHolds(file, sets);
      if (byName) findings.push({ where: show(file), tenantId: byName, what: 'name' });
      if (inTemp && size > TEMP_FILE_LIMIT) continue;
      const byContent = fileHolds(file, sets);
      if (byContent) findings.push({ where: show(file), tenantId: byContent, what: 'content' });
    }
  }
  return { findings, files };
}

export interface CrossFinding {
  /** The tenant whose data holds another's text. */
  holder: string;
  /** The tenant whose name or fingerprint was found. */
  owner: string;
  where: 'passage' | 'note' | 'conversation';
  /** The id of the row (chunk, note, conversation) in the holder's file. */
  rowId: number;
}

/**
 * Other tenants' names and fingerprints in the open tenant's passages (its shared material left
 * out), notes and conversations. The book must have learned every tenant first.
 */
export function crossTenantFindings(tenant: TenantHandle, book: FingerprintBook): { findings: CrossFinding[]; texts: number } {
  const watcher = book.watcher(tenant.id);
  const shared = sharedDocumentIds(tenant);
  const findings: CrossFinding[] = [];
  let texts = 0;
  const seen = new Set<string>();
  const check = (where: CrossFinding['where'], rowId: number, text: string): void => {
    texts++;
    for (const owner of watcher.scan(text)) {
      const key = `${where}:${rowId}:${owner}`;
      if (!seen.has(key)) findings.push({ holder: tenant.id, owner, where, rowId });
      seen.add(key);
    }
  };
  for (const r of tenant.db.prepare('SELECT id, document_id AS doc, text FROM chunks ORDER BY id').iterate() as IterableIterator<{
    id: number;
    doc: number;
    text: string;
  }>) {
    if (!shared.has(r.doc)) check('passage', r.id, r.text);
  }
  for (const r of tenant.db.prepare('SELECT id, title, body FROM notes ORDER BY id').iterate() as IterableIterator<{
    id: number;
    title: string;
    body: string;
  }>) {
    check('note', r.id, `${r.title}\n${r.body}`);
  }
  for (const r of tenant.db.prepare('SELECT id, title FROM conversations ORDER BY id').iterate() as IterableIterator<{ id: number; title: string }>)
    check('conversation', r.id, r.title);
  for (const r of tenant.db.prepare('SELECT conversation_id AS id, content FROM messages ORDER BY id').iterate() as IterableIterator<{
    id: number;
    content: string;
  }>) {
    check('conversation', r.id, r.content);
  }
  return { findings, texts };
}

/** Where `verify` looks in the temp folder: the OS's, unless BULKHEAD_VERIFY_TEMP_DIR names another. */
export function verifyTempDir(): string {
  return process.env.BULKHEAD_VERIFY_TEMP_DIR || os.tmpdir();
}
