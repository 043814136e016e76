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
import { BulkheadError, type ErrorCode } from '../../src-shared/errors.js';
import { WorkerClient } from '../threads/worker-client.js';
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

const reader = new WorkerClient<BackgroundRequest, BackgroundReply>({
  module: new URL('./background-reader-worker', import.meta.url),
  callerUrl: import.meta.url,
  settle: (reply) => {
    if (reply.ok) return reply.value;
    throw new BulkheadError(reply.code as ErrorCode, reply.message);
  },
  stoppedError: () => new BulkheadError('INTERNAL', 'the background reader stopped'),
});

/**
 * Starts the worker ahead of the first job (a thread and its modules take tens of milliseconds to
 * load). The console and the CLI call it at start; without it the first job starts it.
 */
export function startBackgroundReader(): void {
  reader.start();
}

/** Stops the worker (tests, shutdown); a later job starts a new one. */
export function stopBackgroundReader(): Promise<void> {
  return reader.stop();
}

/**
 * Runs `job` against the open tenant on the background reader. Rejects when the reader is
 * unavailable or the job fails: callers use it to go faster, so they do the work themselves then.
 */
export function readInBackground<T>(tenant: TenantHandle, job: BackgroundJob): Promise<T> {
  const thread = reader.start();
  if (!thread) return Promise.reject(new BulkheadError('INTERNAL', 'no background reader in this process'));
  const file = tenant.db.name;
  const key = new Uint8Array(tenantDataKey(tenant));
  const request = (id: number): BackgroundRequest => ({
    id,
    file,
    key,
    tenantId: tenant.id,
    tenantName: tenant.name,
    module: job.module.href,
    name: job.name,
    args: job.args,
  });
  // The key's buffer moves to the worker: no copy of it stays behind on this side.
  return reader.request<T>(thread, request, [key.buffer]);
}
