// Watched folders: per tenant, folders whose supported files are kept in sync with the library.
// The list lives in the tenant's own file (tenant_meta), so no other tenant, log or cache sees it.
// Added and changed files are ingested; a removed file's document is only listed until the user
// confirms its removal.
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import type { Embedder } from '../embed/embedder.js';
import { readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import type { TenantHandle } from '../vault/handle.js';
import { deleteDocument } from './documents.js';
import { ingestPaths, type IngestEvent } from './pipeline.js';
import { isSupported } from './walk.js';

const KEY = 'watch.folders';
export const MAX_WATCHED_FOLDERS = 20;

export interface WatchedFolder {
  path: string;
  addedAt: string;
}

export interface RemovedFile {
  documentId: number;
  title: string;
  sourcePath: string;
}

export interface SyncSummary {
  added: number;
  replaced: number;
  unchanged: number;
  failed: number;
  cancelled: boolean;
  /** Documents whose file is gone from a watched folder: removed only once the user confirms. */
  removed: RemovedFile[];
}

export function watchedFolders(tenant: TenantHandle): WatchedFolder[] {
  const raw = readTenantMeta(tenant, KEY);
  if (!raw) return [];
  try {
    const list = JSON.parse(raw) as unknown;
    return Array.isArray(list) ? list.filter((f): f is WatchedFolder => typeof f?.path === 'string' && typeof f?.addedAt === 'string') : [];
  } catch {
    return [];
  }
}

/** The folder as stored: absolute, symlinks resolved, an existing directory. */
function checkedFolder(input: string): string {
  if (!input.trim() || input.includes('\0')) throw new BulkheadError('INPUT_INVALID', 'a watched folder needs a path');
  if (!path.isAbsolute(input.trim())) throw new BulkheadError('INPUT_INVALID', 'a watched folder is an absolute path (for example /home/me/Clients/Acme)');
  let real: string;
  try {
    real = fs.realpathSync(input.trim());
  } catch {
    throw new BulkheadError('INPUT_INVALID', 'that folder does not exist or cannot be read');
  }
  if (!fs.statSync(real).isDirectory()) throw new BulkheadError('INPUT_INVALID', 'that path is a file, not a folder');
  // The whole disk is not a client's folder (and would make every sync read every file).
  if (real === path.parse(real).root) throw new BulkheadError('INPUT_INVALID', 'the root of a disk cannot be watched; choose a folder');
  return real;
}

export function addWatchedFolder(tenant: TenantHandle, folder: string): WatchedFolder[] {
  const real = checkedFolder(folder);
  const list = watchedFolders(tenant);
  if (list.some((f) => f.path === real)) return list;
  if (list.some((f) => real.startsWith(f.path + path.sep) || f.path.startsWith(real + path.sep))) {
    throw new BulkheadError('INPUT_INVALID', 'that folder is inside (or contains) a folder already watched');
  }
  if (list.length >= MAX_WATCHED_FOLDERS) throw new BulkheadError('INPUT_INVALID', `at most ${MAX_WATCHED_FOLDERS} folders can be watched`);
  const next = [...list, { path: real, addedAt: new Date().toISOString() }];
  writeTenantMeta(tenant, KEY, JSON.stringify(next));
  return next;
}

/** Stops watching a folder; its documents stay in the library. */
export function removeWatchedFolder(tenant: TenantHandle, folder: string): WatchedFolder[] {
  const list = watchedFolders(tenant);
  const next = list.filter((f) => f.path !== folder && f.path !== path.resolve(folder));
  if (next.length === list.length) throw new BulkheadError('INPUT_INVALID', 'that folder is not watched');
  writeTenantMeta(tenant, KEY, JSON.stringify(next));
  return next;
}

/** Documents recorded under a watched folder whose file is no longer there (or no longer a supported file). */
export function removedFiles(tenant: TenantHandle): RemovedFile[] {
  const out: RemovedFile[] = [];
  for (const f of watchedFolders(tenant)) {
    const prefix = f.path.endsWith(path.sep) ? f.path : f.path + path.sep;
    const rows = tenant.db
      .prepare('SELECT id, title, source_path FROM documents WHERE substr(source_path, 1, ?) = ? ORDER BY source_path')
      .all(prefix.length, prefix) as { id: number; title: string; source_path: string }[];
    for (const r of rows) {
      let present = false;
      try {
        present = fs.lstatSync(r.source_path).isFile() && isSupported(r.source_path);
      } catch {
        present = false;
      }
      if (!present) out.push({ documentId: r.id, title: r.title, sourcePath: r.source_path });
    }
  }
  return out;
}

/** One pass over every watched folder: new and changed files in, removed ones listed. */
export async function syncWatchedFolders(
  tenant: TenantHandle,
  opts: { embedder: Embedder; signal?: AbortSignal; onEvent?: (e: IngestEvent) => void },
): Promise<SyncSummary> {
  const folders = watchedFolders(tenant)
    .map((f) => f.path)
    .filter((p) => fs.existsSync(p));
  const total: SyncSummary = { added: 0, replaced: 0, unchanged: 0, failed: 0, cancelled: false, removed: [] };
  if (folders.length > 0) {
    const s = await ingestPaths(tenant, folders, {
      embedder: opts.embedder,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    });
    Object.assign(total, { added: s.added, replaced: s.replaced, unchanged: s.unchanged, failed: s.failed, cancelled: s.cancelled });
  }
  total.removed = removedFiles(tenant);
  return total;
}

/** Deletes the documents the user confirmed, and only those still listed as removed. */
export function confirmRemovedFiles(tenant: TenantHandle, documentIds: readonly number[]): number {
  const gone = new Set(removedFiles(tenant).map((r) => r.documentId));
  let deleted = 0;
  for (const id of documentIds) {
    if (!gone.has(id)) continue;
    deleteDocument(tenant, id);
    deleted++;
  }
  return deleted;
}
