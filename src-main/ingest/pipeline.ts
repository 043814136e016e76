import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { neutraliseBidi } from '../../src-shared/display-text.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { appendAuditInTransaction, publishAuditHead } from '../vault/audit-chain.js';
import { optimizeFts } from '../index/fts.js';
import { packCodes } from '../index/code-pack.js';
import { MERGE_EVERY_CHUNKS, mergePendingTerms } from '../index/term-index.js';
import { activeVectorIndex, vectorIndexFor, type VectorIndex } from '../index/vectors.js';
import { createEmbedder } from '../embed/index.js';
import type { TenantHandle } from '../vault/handle.js';
import { mapSqliteError } from '../vault/sqlite.js';
import { chunkDocument } from './chunker.js';
import { findDocumentByPath, storeDocument, type NewChunk } from './documents.js';
import type { Embedder } from '../embed/embedder.js';
import { ParseError, parseFileIsolated } from './parsers/index.js';
import { readChunkerSettings, readEmbedderConfig } from '../embed/settings.js';
import { walkInputs, type WalkEntry } from './walk.js';

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const EMBED_BATCH = 64;

export type FileStatus = 'added' | 'unchanged' | 'replaced' | 'failed';

export interface FileResult {
  path: string;
  status: FileStatus;
  documentId?: number;
  chunks?: number;
  /** Why it failed: a code a program can branch on and a reason a person can read. */
  code?: string;
  reason?: string;
}

export interface IngestSummary {
  added: number;
  unchanged: number;
  replaced: number;
  failed: number;
  chunks: number;
  bytes: number;
  cancelled: boolean;
  files: FileResult[];
}

export type IngestEvent =
  | { type: 'scanned'; files: number; bytes: number }
  | { type: 'file-start'; index: number; path: string; bytes: number }
  | { type: 'file-progress'; index: number; path: string; chunksDone: number; chunksTotal: number }
  | { type: 'file-done'; index: number; result: FileResult; filesDone: number; bytesDone: number; chunksDone: number; errors: number };

export const Tags = z.array(z.string().trim().min(1).max(64)).max(32);

export interface IngestOptions {
  embedder: Embedder;
  tags?: string[];
  signal?: AbortSignal;
  maxFileBytes?: number;
  onEvent?: (e: IngestEvent) => void;
  /**
   * The source a document is recorded under (its identity: same source, same document), when the
   * file read is a temporary copy (console uploads, samples). `sha256` is the content's hash, for
   * sources that have no path of their own; it is undefined for a file that failed before hashing.
   */
  sourcePathOf?: (file: string, sha256: string | undefined) => string;
  /**
   * Inputs the caller holds itself (the console's sealed uploads): taken as given, not walked,
   * and read through it, so their plaintext is never written to disk.
   */
  staged?: { bytes(input: string): number; read(input: string): Promise<Buffer> };
  /** Follow symbolic links out of the folders given (the walk refuses them as OUTSIDE_FOLDER otherwise). */
  followLinks?: boolean;
  /** New chunks after which the run merges the term index (MERGE_EVERY_CHUNKS; tests lower it). */
  mergeEveryChunks?: number;
}

/**
 * Pours files and folders into the open tenant. Each document is parsed, chunked and embedded
 * first, then written in one transaction; a failure is reported with its reason and the batch
 * goes on; a cancel stops between documents, so nothing is ever half stored.
 */
export async function ingestPaths(tenant: TenantHandle, inputs: readonly string[], opts: IngestOptions): Promise<IngestSummary> {
  const tags = Tags.parse(opts.tags ?? []);
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const settings = readChunkerSettings(tenant);
  // Where vectors go: the tenant's active index and its embedder. A re-embed that switches the
  // tenant meanwhile (one the user asked for, or the offline embedder's tuning) moves it on.
  let target = { embedder: opts.embedder, index: vectorIndexFor(tenant, opts.embedder.id, opts.embedder.dimension) };
  const summary: IngestSummary = { added: 0, unchanged: 0, replaced: 0, failed: 0, chunks: 0, bytes: 0, cancelled: false, files: [] };

  const staged = opts.staged;
  const entries: WalkEntry[] = staged
    ? inputs.map((p) => ({ kind: 'file' as const, path: p, realPath: p, bytes: staged.bytes(p) }))
    : [...walkInputs(inputs, { ...(opts.signal ? { signal: opts.signal } : {}), followLinks: opts.followLinks ?? false })];
  const files = entries.filter((e) => e.kind === 'file');
  opts.onEvent?.({ type: 'scanned', files: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) });
  for (const e of entries) if (e.kind === 'problem') record({ path: e.path, status: 'failed', code: e.code, reason: e.reason });

  let index_ = 0;
  let mergedAt = 0;
  for (const file of files) {
    if (opts.signal?.aborted) {
      summary.cancelled = true;
      break;
    }
    const i = index_++;
    opts.onEvent?.({ type: 'file-start', index: i, path: file.path, bytes: file.bytes });
    let result: FileResult;
    try {
      result = await ingestOne(file.path, file.realPath, file.bytes, i);
    } catch (err) {
      if (opts.signal?.aborted) {
        summary.cancelled = true;
        break;
      }
      result = { path: opts.sourcePathOf?.(file.path, undefined) ?? file.realPath, status: 'failed', ...describeFailure(err) };
    }
    summary.bytes += file.bytes;
    record(result, i);
    // Keep what a search must read from text (pending chunks) small during a long run.
    if (summary.chunks - mergedAt >= (opts.mergeEveryChunks ?? MERGE_EVERY_CHUNKS)) {
      mergePendingTerms(tenant);
      mergedAt = summary.chunks;
    }
  }
  // Replaced versions left their words in old full-text segments: merge them away.
  if (summary.replaced > 0) optimizeFts(tenant);
  if (summary.added + summary.replaced > 0) {
    mergePendingTerms(tenant);
    packCodes(tenant, target.index);
  }
  return summary;

  function record(result: FileResult, i = -1): void {
    summary.files.push(result);
    summary[result.status] += 1;
    summary.chunks += result.chunks ?? 0;
    opts.onEvent?.({
      type: 'file-done',
      index: i,
      result,
      filesDone: summary.files.length,
      bytesDone: summary.bytes,
      chunksDone: summary.chunks,
      errors: summary.failed,
    });
  }

  /** `file` as the walk found it, `real` its real path: what is read, and what a document records. */
  async function ingestOne(file: string, real: string, bytes: number, i: number): Promise<FileResult> {
    if (bytes > maxBytes) {
      const source = opts.sourcePathOf?.(file, undefined) ?? real;
      return { path: source, status: 'failed', code: 'TOO_LARGE', reason: `larger than the ${Math.round(maxBytes / 1048576)} MiB limit for one file` };
    }
    const content = opts.staged ? await opts.staged.read(file) : undefined;
    const sha256 = content ? crypto.createHash('sha256').update(content).digest('hex') : await hashFile(real, opts.signal);
    const source = opts.sourcePathOf?.(file, sha256) ?? real;
    const existing = findDocumentByPath(tenant, source);
    if (existing && existing.sha256 === sha256) return { path: source, status: 'unchanged', documentId: existing.id, chunks: 0 };

    const parsed = await parseFileIsolated(real, { maxBytes, ...(opts.signal ? { signal: opts.signal } : {}), ...(content ? { bytes: content } : {}) });
    const pieces = chunkDocument(parsed, settings);
    if (pieces.length === 0) return { path: source, status: 'failed', code: 'EMPTY', reason: 'no text to index' };
    const chunks: NewChunk[] = pieces.map((c) => ({
      ordinal: c.ordinal,
      text: c.text,
      tokenCount: c.tokenCount,
      charStart: c.charStart,
      charEnd: c.charEnd,
      page: c.page,
      headingPath: c.headingPath,
      sha256: crypto.createHash('sha256').update(c.text).digest('hex'),
    }));
    const embedAll = async (embedder: Embedder): Promise<Float32Array[]> => {
      const vectors: Float32Array[] = [];
      for (let at = 0; at < chunks.length; at += EMBED_BATCH) {
        opts.signal?.throwIfAborted();
        vectors.push(
          ...(await embedder.embed(
            chunks.slice(at, at + EMBED_BATCH).map((c) => c.text),
            opts.signal,
          )),
        );
        opts.onEvent?.({ type: 'file-progress', index: i, path: file, chunksDone: vectors.length, chunksTotal: chunks.length });
      }
      return vectors;
    };
    let vectors = await embedAll(target.embedder);
    opts.signal?.throwIfAborted();
    // A title is shown everywhere (console, CLI, citations): it keeps no controls or bidi overrides.
    const title = displayTitle(parsed.title) || displayTitle(path.basename(source)) || 'untitled';
    // The document and its audit record commit together: one commit, and no stored document
    // without its record (the head kept outside the file follows once committed). If the tenant
    // switched to other vectors while these were made (checked inside the write transaction, so
    // no switch, of this process or another, falls between), they are made again with its embedder now.
    for (let tries = 0; ; tries++) {
      const index = target.index;
      const written = tenant.db
        .transaction(() => {
          if (!isActive(tenant, index)) return null;
          const stored = storeDocument(tenant, { sourcePath: source, title, format: parsed.format, sha256, bytes, tags }, chunks, vectors, index);
          const record = appendAuditInTransaction(tenant, 'ingest', {
            documentId: stored.id,
            sha256,
            format: parsed.format,
            bytes,
            chunks: chunks.length,
            replaced: stored.replaced,
          });
          return { stored, record };
        })
        .immediate();
      if (written) {
        publishAuditHead(tenant, written.record);
        return { path: source, status: written.stored.replaced ? 'replaced' : 'added', documentId: written.stored.id, chunks: chunks.length };
      }
      if (tries >= 2) throw new BulkheadError('TENANT_BUSY', "the tenant's vectors kept changing while this file was indexed; add it again");
      const active = activeVectorIndex(tenant);
      if (!active) throw new BulkheadError('EMBEDDER_MISMATCH', "the tenant's vector index went away while this file was indexed");
      target = { embedder: createEmbedder(tenant, readEmbedderConfig(tenant)), index: active };
      vectors = await embedAll(target.embedder);
      opts.signal?.throwIfAborted();
    }
  }
}

/** Whether `index` is still the tenant's active vector index (same generation). */
function isActive(tenant: TenantHandle, index: VectorIndex): boolean {
  return activeVectorIndex(tenant)?.generation === index.generation;
}

function displayTitle(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return neutraliseBidi(raw.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

function describeFailure(err: unknown): { code: string; reason: string } {
  if (err instanceof ParseError) return { code: err.code, reason: err.message };
  if (err instanceof BulkheadError) return { code: err.code, reason: err.message };
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES') return { code: 'UNREADABLE', reason: 'permission denied' };
  if (e?.code === 'ENOENT') return { code: 'UNREADABLE', reason: 'the file disappeared during ingestion' };
  if (e?.code === 'SQLITE_FULL') return { code: 'DISK_FULL', reason: 'the disk is full' };
  // Other storage errors (a write refused, the file locked by another writer) as the vault names them.
  const mapped = mapSqliteError(err, 'the tenant file');
  if (mapped instanceof BulkheadError) return { code: mapped.code, reason: mapped.message };
  return { code: 'FAILED', reason: e?.message ?? String(err) };
}

async function hashFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
