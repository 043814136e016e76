// Reads on a second connection to the open tenant's file, in a worker thread, so that a read can
// run beside the main thread's own work. The machines this runs on have two cores, and the first
// search after opening a tenant spends most of its time decrypting pages: its 13 MB of vector
// codes (at 100,000 chunks) can be read there while this thread runs the full-text side.
//
// The key stays in the vault layer: the worker is this module's, it gets a copy of the data key
// that it zeroes when the connection closes, opens the file read-only (query_only), and hands the
// job a TenantHandle minted there. A job is a named export of a module given as a URL by code,
// never by input, called as job(handle, ...args); typed arrays in its result come back without a
// copy. Nothing is written anywhere and nothing outlives the job.
import type { Worker } from 'node:worker_threads';
import { BulkheadError, type ErrorCode } from '../../src-shared/errors.js';
import { startModuleWorker } from '../threads/module-worker.js';
import { tenantDataKey, type TenantHandle } from './handle.js';

export interface BackgroundJob {
  /** The module that exports the job (new URL('./x.js', import.meta.url)). */
  readonly module: URL;
  readonly name: string;
  readonly args: readonly (string | number | boolean | null)[];
}

/** What the worker receives. */
export interface BackgroundRequest {
  id: number;
  file: string;
  key: Uint8Array;
  tenantId: string;
  tenantName: string;
  module: string;
  name: string;
  args: readonly (string | number | boolean | null)[];
}

export type BackgroundReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; code: string; message: string };

interface Reader {
  readonly worker: Worker;
  /** The jobs sent to this worker and not answered yet. */
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
}

let reader: Reader | null = null;
let unavailable = false;
let nextId = 1;

function stopped(r: Reader): void {
  if (reader === r) reader = null;
  for (const p of r.pending.values()) p.reject(new BulkheadError('INTERNAL', 'the background reader stopped'));
  r.pending.clear();
}

function spawn(): Reader | null {
  if (reader || unavailable) return reader;
  try {
    const worker = startModuleWorker(new URL('./background-reader-worker', import.meta.url), import.meta.url);
    const r: Reader = { worker, pending: new Map() };
    worker.on('message', (reply: BackgroundReply) => {
      const p = r.pending.get(reply.id);
      if (!p) return;
      r.pending.delete(reply.id);
      if (r.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new BulkheadError(reply.code as ErrorCode, reply.message));
    });
    worker.on('error', () => {
      unavailable = true;
      stopped(r);
    });
    worker.on('exit', () => stopped(r));
    worker.unref(); // an idle reader must not keep the process alive (after the listeners, which ref it)
    reader = r;
  } catch {
    unavailable = true;
  }
  return reader;
}

/**
 * Starts the worker ahead of the first job (a thread and its modules take tens of milliseconds to
 * load). The console and the CLI call it at start; without it the first job starts it.
 */
export function startBackgroundReader(): void {
  spawn();
}

/** Stops the worker (tests, shutdown); a later job starts a new one. */
export async function stopBackgroundReader(): Promise<void> {
  const r = reader;
  reader = null;
  if (r) await r.worker.terminate();
}

/**
 * Runs `job` against the open tenant on the background reader. Rejects when the reader is
 * unavailable or the job fails: callers use it to go faster, so they do the work themselves then.
 */
export function readInBackground<T>(tenant: TenantHandle, job: BackgroundJob): Promise<T> {
  const r = spawn();
  if (!r) return Promise.reject(new BulkheadError('INTERNAL', 'no background reader in this process'));
  const id = nextId++;
  const key = new Uint8Array(tenantDataKey(tenant));
  const request: BackgroundRequest = {
    id,
    file: tenant.db.name,
    key,
    tenantId: tenant.id,
    tenantName: tenant.name,
    module: job.module.href,
    name: job.name,
    args: job.args,
  };
  return new Promise<T>((resolve, reject) => {
    r.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    r.worker.ref();
    // The key's buffer moves to the worker: no copy of it stays behind on this side.
    r.worker.postMessage(request, [key.buffer]);
  });
}
