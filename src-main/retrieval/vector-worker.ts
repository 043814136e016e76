// The vector stage on the second core. A warm search has two independent pieces of work once its
// first BM25 pass has named the feedback passages: the full-text expansion (read the passages,
// pick expansion words, score them), which needs this thread's SQLite connection, and the vector
// stage over the codes and int8 copies in memory, which needs no SQLite at all. The vector worker
// runs the second while this thread runs the first (these machines have two cores).
//
// Nothing is copied: the codes (code-set.ts) and the int8 copies (int8-cache.ts) live in shared
// memory, and the worker ranks over those very bytes with the same function as this thread
// (vector-stage.ts rankInMemory), in its own scratch area. It holds them under a token, per open
// tenant: a changed set is handed over under a new token and the old one dropped, and the
// tenant's close drops it too, so the worker keeps nothing of a closed tenant. It reads no file,
// holds no key, and logs nothing. When it is not running yet, has failed, or this engine cannot
// share memory, the caller ranks on its own thread: the answer is the same either way.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads/module-worker.js';
import { onTenantClose, type TenantHandle } from '../vault/handle.js';
import type { CodeSet, SharedCodes } from '../index/code-set.js';
import type { RankedHit } from './search.js';
import type { Int8Copies } from './vector-stage.js';

export type VectorWorkerRequest =
  | { type: 'use'; token: number; codes: SharedCodes; copies: Int8Copies }
  | { type: 'rank'; id: number; token: number; vector: Float32Array; k: number }
  | { type: 'drop'; token: number }
  | { type: 'count'; id: number };

export type VectorWorkerReply =
  | { type: 'ranked'; id: number; chunkIds: Int32Array; scores: Float64Array }
  | { type: 'failed'; id: number; message: string }
  | { type: 'counted'; id: number; held: number };

interface Thread {
  readonly worker: Worker;
  /**
   * Set to 1 by the thread once it has loaded its modules; until then searches rank on their own
   * thread. Shared memory, not a message: a run of searches that never yields to the event loop
   * (each awaits only settled promises until it needs the worker) would never see a message.
   */
  readonly ready: Int32Array;
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
}

/** What the worker holds for one open tenant. */
interface InUse {
  readonly thread: Thread;
  readonly token: number;
  readonly codes: CodeSet;
  readonly copies: Int8Copies;
}

let thread: Thread | null = null;
let unavailable = false;
let nextId = 1;
let nextToken = 1;
let answered = 0;
let enabled = true;
const inUse = new WeakMap<TenantHandle, InUse>();

function stopped(t: Thread): void {
  if (thread === t) thread = null;
  for (const p of t.pending.values()) p.reject(new Error('the vector worker stopped'));
  t.pending.clear();
}

function post(t: Thread, request: VectorWorkerRequest): void {
  t.worker.postMessage(request);
}

function spawn(): Thread | null {
  if (thread || unavailable) return thread;
  try {
    const ready = new Int32Array(new SharedArrayBuffer(4));
    const worker = startModuleWorker(new URL('./vector-worker-thread', import.meta.url), import.meta.url, ready);
    const t: Thread = { worker, ready, pending: new Map() };
    worker.on('message', (reply: VectorWorkerReply) => {
      const p = t.pending.get(reply.id);
      if (!p) return;
      t.pending.delete(reply.id);
      if (t.pending.size === 0) worker.unref();
      if (reply.type === 'failed') p.reject(new Error(reply.message));
      else if (reply.type === 'counted') p.resolve(reply.held);
      else {
        answered++;
        p.resolve(Array.from(reply.chunkIds, (chunkId, i) => ({ chunkId, rank: i + 1, score: reply.scores[i]! })));
      }
    });
    worker.on('error', () => {
      unavailable = true;
      stopped(t);
    });
    worker.on('exit', () => stopped(t));
    worker.unref(); // an idle worker must not keep the process alive
    thread = t;
  } catch {
    unavailable = true;
  }
  return thread;
}

/** Starts the worker ahead of the first warm search (the console session calls it at start; without it the first warm search does). */
export function startVectorWorker(): void {
  spawn();
}

/** Stops the worker (tests, shutdown); a later search starts a new one. */
export async function stopVectorWorker(): Promise<void> {
  const t = thread;
  thread = null;
  if (t) await t.worker.terminate();
}

/** Whether the worker has started and loaded (tests wait for it). */
export function vectorWorkerReady(): boolean {
  return thread ? Atomics.load(thread.ready, 0) === 1 : false;
}

/** With false, searches rank on their own thread (benchmarks time both ways; tests compare them). */
export function useVectorWorker(on: boolean): void {
  enabled = on;
}

/** Searches the worker has answered in this process (tests check that it was used). */
export function vectorWorkerAnswers(): number {
  return answered;
}

/** How many tenants' data the worker holds now, after every message sent before (tests check it lets go). */
export function vectorWorkerHolds(): Promise<number> {
  const t = thread;
  if (!t) return Promise.resolve(0);
  return request<number>(t, (id) => ({ type: 'count', id }));
}

function request<T>(t: Thread, message: (id: number) => VectorWorkerRequest): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    t.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    t.worker.ref();
    post(t, message(id));
  });
}

const isShared = (a: ArrayBufferView): boolean => a.buffer instanceof SharedArrayBuffer;

/**
 * rankInMemory(codes, copies, vector, k) on the vector worker: `codes` and `copies` are the open
 * tenant's current ones (the caller checked), `vector` non-zero. Null when it cannot run there
 * (the worker is not ready yet, which this starts, or failed; the data is not in shared memory);
 * the promise rejects if the worker stops meanwhile. Either way the caller ranks itself.
 */
export function rankOnVectorWorker(tenant: TenantHandle, codes: CodeSet, copies: Int8Copies, vector: Float32Array, k: number): Promise<RankedHit[]> | null {
  const shared = codes.shared;
  if (!enabled || !shared || !isShared(copies.ids) || !isShared(copies.vectors) || !isShared(copies.squares)) return null;
  const t = spawn();
  if (!t || Atomics.load(t.ready, 0) !== 1 || !tenant.isOpen) return null;
  let use = inUse.get(tenant);
  if (!use || use.thread !== t || use.codes !== codes || use.copies !== copies) {
    if (use?.thread === t) post(t, { type: 'drop', token: use.token });
    if (!use) onTenantClose(tenant, () => release(tenant));
    use = { thread: t, token: nextToken++, codes, copies };
    inUse.set(tenant, use);
    post(t, { type: 'use', token: use.token, codes: shared, copies });
  }
  const token = use.token;
  return request<RankedHit[]>(t, (id) => ({ type: 'rank', id, token, vector, k }));
}

/** The tenant closed: the worker lets go of its data. */
function release(tenant: TenantHandle): void {
  const use = inUse.get(tenant);
  inUse.delete(tenant);
  if (use && thread === use.thread) post(use.thread, { type: 'drop', token: use.token });
}
