// The vector worker's thread (see vector-worker.ts): ranks query vectors over codes and int8
// copies that the main thread shares with it, one request at a time, in the order they come.
// It reads no file, holds no key, and logs nothing; failures go back as a message.
import { parentPort, workerData } from 'node:worker_threads';
import { CodeSet } from '../index/code-set.js';
import { WORKER_LANE } from '../index/wasm/kernels.js';
import { rankInMemory, type Int8Copies } from './vector-stage.js';
import type { VectorWorkerReply, VectorWorkerRequest } from './vector-worker.js';

const held = new Map<number, { codes: CodeSet; copies: Int8Copies }>();

function reply(message: VectorWorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

parentPort?.on('message', (request: VectorWorkerRequest) => {
  switch (request.type) {
    case 'use':
      try {
        held.set(request.token, { codes: CodeSet.attach(request.codes, WORKER_LANE), copies: request.copies });
      } catch {
        // not held: its searches fail below, and rank on the main thread
      }
      return;
    case 'drop':
      held.delete(request.token);
      return;
    case 'count':
      reply({ type: 'counted', id: request.id, held: held.size });
      return;
    case 'rank': {
      const data = held.get(request.token);
      try {
        if (!data) throw new Error('the vector worker does not hold this data');
        const hits = rankInMemory(data.codes, data.copies, request.vector, request.k, WORKER_LANE);
        const chunkIds = Int32Array.from(hits, (h) => h.chunkId);
        const scores = Float64Array.from(hits, (h) => h.score);
        reply({ type: 'ranked', id: request.id, chunkIds, scores }, [chunkIds.buffer, scores.buffer]);
      } catch (err) {
        reply({ type: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
  }
});

// Loaded: the main thread may send searches now (see Thread.ready in vector-worker.ts).
Atomics.store(workerData as Int32Array, 0, 1);
