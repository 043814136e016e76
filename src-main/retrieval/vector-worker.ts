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
import { WorkerClient, type WorkerThread } from '../threads/worker-client.js';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';
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

let nextToken = 1;
let answered = 0;
let enabled = true;

/**
 * The thread's workerData: set to 1 by the thread once it has loaded its modules; until then
 * searches rank on their own thread. Shared memory, not a message: a run of searches that never
 * yields to the event loop (each awaits only settled promises until it needs the worker) would
 * never see a message.
 */
const readyFlag = (t: WorkerThread): Int32Array => t.data as Int32Array;

const client = new WorkerClient<VectorWorkerRequest, VectorWorkerReply>({
  module: new URL('./vector-worker-thread', import.meta.url),
  callerUrl: import.meta.url,
  workerData: () => new Int32Array(new SharedArrayBuffer(4)),
  settle: (reply) => {
    if (reply.type === 'failed') throw new Error(reply.message);
    if (reply.type === 'counted') return reply.held;
    answered++;
    return Array.from(reply.chunkIds, (chunkId, i) => ({ chunkId, rank: i + 1, score: reply.scores[i]! }));
  },
  stoppedError: () => new Error('the vector worker stopped'),
});

/** What the worker holds for one open tenant, kept in its cache: the tenant's close makes the worker let go. */
interface InUse {
  readonly thread: WorkerThread;
  readonly token: number;
  readonly codes: CodeSet;
  readonly copies: Int8Copies;
}

const IN_USE = cacheKey<InUse>('vector worker set', (use) => {
  if (client.thread === use.thread) client.post(use.thread, { type: 'drop', token: use.token });
});

/** Starts the worker ahead of the first warm search (the console session calls it at start; without it the first warm search does). */
export function startVectorWorker(): void {
  client.start();
}

/** Stops the worker (tests, shutdown); a later search starts a new one. */
export function stopVectorWorker(): Promise<void> {
  return client.stop();
}

/** Whether the worker has started and loaded (tests wait for it). */
export function vectorWorkerReady(): boolean {
  const t = client.thread;
  return t ? Atomics.load(readyFlag(t), 0) === 1 : false;
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
  const t = client.thread;
  if (!t) return Promise.resolve(0);
  return client.request<number>(t, (id) => ({ type: 'count', id }));
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
  const t = client.start();
  if (!t || Atomics.load(readyFlag(t), 0) !== 1 || !tenant.isOpen) return null;
  let use = tenant.cache.get(IN_USE);
  if (!use || use.thread !== t || use.codes !== codes || use.copies !== copies) {
    if (use?.thread === t) client.post(t, { type: 'drop', token: use.token });
    use = { thread: t, token: nextToken++, codes, copies };
    tenant.cache.set(IN_USE, use);
    client.post(t, { type: 'use', token: use.token, codes: shared, copies });
  }
  const token = use.token;
  return client.request<RankedHit[]>(t, (id) => ({ type: 'rank', id, token, vector, k }));
}
