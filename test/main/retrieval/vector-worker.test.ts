import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { codeSetOf } from '../../../src-main/retrieval/code-cache.js';
import { CodeSet } from '../../../src-main/index/code-set.js';
import { int8CopiesOf, squaresOf } from '../../../src-main/retrieval/int8-cache.js';
import { quantizeInt8 } from '../../../src-main/index/quantize.js';
import { embedQuery, hybridRank, vectorTopK } from '../../../src-main/retrieval/search.js';
import { SIMHASH_BITS } from '../../../src-main/index/simhash.js';
import { int8Distances, newInt8Copies, rankInMemory, type Int8Copies } from '../../../src-main/retrieval/vector-stage.js';
import {
  rankOnVectorWorker,
  startVectorWorker,
  stopVectorWorker,
  useVectorWorker,
  vectorWorkerAnswers,
  vectorWorkerHolds,
  vectorWorkerReady,
} from '../../../src-main/retrieval/vector-worker.js';
import { WORKER_LANE } from '../../../src-main/index/wasm/kernels.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import { closeTenants, openFreshTenant, tenantWithChunks } from '../../helpers/retrieval.js';

afterEach(closeTenants);
afterAll(async () => {
  await stopVectorWorker();
  await stopBackgroundReader();
});

const embedder = new HashedEmbedder({ dimension: 64 });
const texts = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${tag} memo ${i} about lighthouse ${i % 7}, ferry ${i % 11}, tide ${i % 13} and quay ${i % 5}`);
const TUNING = { minCount: 1, part: 50 };

async function workerReady(): Promise<void> {
  startVectorWorker();
  await vi.waitFor(() => expect(vectorWorkerReady()).toBe(true), { timeout: 15_000 });
}

/** Random codes and int8 vectors for n chunks with ids 5, 8, 11, ... */
function randomData(n: number, dimension: number): { codes: CodeSet; copies: Int8Copies } {
  const ids = Int32Array.from({ length: n }, (_, i) => 5 + 3 * i);
  const codes = CodeSet.from(ids, crypto.randomBytes(n * (SIMHASH_BITS / 8)));
  const copies = newInt8Copies(n, dimension);
  copies.ids.set(ids);
  copies.vectors.set(new Int8Array(crypto.randomBytes(n * dimension).buffer));
  copies.squares.set(squaresOf(copies.vectors, dimension));
  return { codes, copies };
}

const randomVector = (dimension: number): Float32Array => Float32Array.from({ length: dimension }, () => Math.random() * 2 - 1);

describe('the int8 dot-product kernel', () => {
  it('gives the same distances as the JS loop, in either lane, and JS takes over for dimensions it does not cover', () => {
    for (const dimension of [64, 384, 40]) {
      const { copies } = randomData(900, dimension);
      const candidates = [...Array.from(copies.ids).filter((_, i) => i % 2 === 0), 4, 99_999]; // two ids without a copy
      for (let q = 0; q < 5; q++) {
        const query = quantizeInt8(randomVector(dimension));
        const js = int8Distances(copies, query, candidates, { simd: false });
        expect(js).toHaveLength(450);
        expect(int8Distances(copies, query, candidates)).toEqual(js);
        expect(int8Distances(copies, query, candidates, { lane: WORKER_LANE })).toEqual(js);
      }
    }
  });

  it('handles more candidates than one lane holds (4,096) and plain, unshared arrays', () => {
    const { copies } = randomData(9000, 32);
    const query = quantizeInt8(randomVector(32));
    const all = Array.from(copies.ids);
    const js = int8Distances(copies, query, all, { simd: false });
    expect(int8Distances(copies, query, all)).toEqual(js);
    const plain: Int8Copies = {
      ids: Int32Array.from(copies.ids),
      vectors: Int8Array.from(copies.vectors),
      squares: Int32Array.from(copies.squares),
      dimension: 32,
      memory: null,
    };
    expect(int8Distances(plain, query, all)).toEqual(js);
  });
});

describe('lanes of a shared code set', () => {
  it('keep their scratch apart: distances of this thread survive a pass in the worker lane, which computes the same', () => {
    const { codes } = randomData(1000, 64);
    const attached = CodeSet.attach(codes.shared!, WORKER_LANE);
    expect(attached.ids).toBe(codes.shared!.ids);
    const probe = crypto.randomBytes(SIMHASH_BITS / 8);
    const mine = codes.distances(probe); // a view into this lane, valid until this set's next pass
    const expected = Array.from(mine);
    attached.distances(crypto.randomBytes(SIMHASH_BITS / 8));
    expect(Array.from(mine)).toEqual(expected);
    expect(Array.from(attached.distances(probe))).toEqual(expected);
    const projections = randomVector(SIMHASH_BITS);
    expect(attached.nearest(projections, 50, 250)).toEqual(codes.nearest(projections, 50, 250));
  });

  it('attach refuses memory that is not a shared code set', () => {
    const { codes } = randomData(100, 64);
    const shared = codes.shared!;
    expect(() => CodeSet.attach({ memory: new WebAssembly.Memory({ initial: 1 }), ids: shared.ids })).toThrow(RangeError);
    expect(() => CodeSet.attach({ memory: shared.memory, ids: new Int32Array(100_000) })).toThrow(RangeError);
  });
});

describe('the vector worker', () => {
  beforeAll(workerReady);

  it('ranks exactly as this thread does, over the same shared memory, while this thread works on', async () => {
    const tenant = await openFreshTenant();
    // Large enough that both threads' passes overlap in time: a shared scratch area would garble them.
    const { codes, copies } = randomData(60_000, 64);
    const before = vectorWorkerAnswers();
    for (let q = 0; q < 12; q++) {
      const vector = randomVector(64);
      const aside = rankOnVectorWorker(tenant, codes, copies, vector, 100);
      expect(aside).not.toBeNull();
      // Meanwhile this thread ranks the same data in its own lane.
      const here = rankInMemory(codes, copies, vector, 100);
      expect(here).toHaveLength(100);
      expect(await aside).toEqual(here);
    }
    expect(vectorWorkerAnswers() - before).toBe(12);
  });

  it('holds one set per open tenant: a changed set replaces it, and the tenant closing lets it go', async () => {
    const first = await openFreshTenant('First');
    const second = await openFreshTenant('Second');
    const a = randomData(500, 64);
    const b = randomData(700, 64);
    const c = randomData(600, 64);
    const held0 = await vectorWorkerHolds();
    await rankOnVectorWorker(first, a.codes, a.copies, randomVector(64), 10);
    await rankOnVectorWorker(second, b.codes, b.copies, randomVector(64), 10);
    expect(await vectorWorkerHolds()).toBe(held0 + 2);
    // The first tenant's data changed (a write): the worker swaps, it does not accumulate.
    const hits = await rankOnVectorWorker(first, c.codes, c.copies, randomVector(64), 10);
    expect(hits!.every((h) => Array.from(c.codes.ids).includes(h.chunkId))).toBe(true);
    expect(await vectorWorkerHolds()).toBe(held0 + 2);
    closeTenants(); // locks both vaults: both handles close
    expect(first.isOpen || second.isOpen).toBe(false);
    expect(await vectorWorkerHolds()).toBe(held0);
    expect(rankOnVectorWorker(first, a.codes, a.copies, randomVector(64), 10)).toBeNull(); // closed: nothing goes to the worker
  });

  it('takes no data that is not in shared memory', async () => {
    const tenant = await openFreshTenant();
    const { codes, copies } = randomData(100, 64);
    const plain: Int8Copies = { ...copies, vectors: Int8Array.from(copies.vectors), memory: null };
    expect(rankOnVectorWorker(tenant, codes, plain, randomVector(64), 10)).toBeNull();
  });

  it('hybridRank gives the same ranking with the vector stage on the worker as on this thread, also under concurrent searches', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(400, 'kappa'));
    const queries = ['lighthouse 3 ferry', 'tide 7 quay 2', 'kappa memo 120', 'ferry 10 lighthouse 6 tide 1', 'quay'];
    // This thread alone: codes in memory, int8 copies not yet (SQLite re-rank, same distances).
    await hybridRank(tenant, embedder, 'warm up');
    const alone = [];
    for (const q of queries) alone.push(await hybridRank(tenant, embedder, q));
    const size = codeSetOf(tenant, index).ids.length;
    int8CopiesOf(tenant, index, size, true, TUNING);
    await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    const before = vectorWorkerAnswers();
    for (const [i, q] of queries.entries()) expect(await hybridRank(tenant, embedder, q)).toEqual(alone[i]);
    expect(vectorWorkerAnswers() - before).toBe(queries.length);
    // Switched off (the bench times both ways): this thread ranks, and gives the same.
    useVectorWorker(false);
    try {
      for (const [i, q] of queries.entries()) expect(await hybridRank(tenant, embedder, q)).toEqual(alone[i]);
      expect(vectorWorkerAnswers() - before).toBe(queries.length);
    } finally {
      useVectorWorker(true);
    }
    // Several at once, interleaved with vectorTopK on this thread (its own lane).
    const together = await Promise.all(
      queries.map(async (q) => {
        const ranking = hybridRank(tenant, embedder, q);
        vectorTopK(tenant, index, await embedQuery(embedder, q), 50);
        return ranking;
      }),
    );
    expect(together).toEqual(alone);
  });

  it('a worker stopped with a search in flight: the search settles, and hybridRank ranks on this thread until a new one is ready', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(300, 'lambda'));
    await hybridRank(tenant, embedder, 'warm up');
    const size = codeSetOf(tenant, index).ids.length;
    int8CopiesOf(tenant, index, size, true, TUNING);
    await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    const expected = await hybridRank(tenant, embedder, 'ferry 4 tide 9');

    const { codes, copies } = randomData(20_000, 64);
    const vector = randomVector(64);
    const inFlight = rankOnVectorWorker(tenant, codes, copies, vector, 50)!.catch((err: Error) => err.message);
    await stopVectorWorker();
    // Answered before the stop took hold, or rejected: never a hang, never another answer.
    const settled = await inFlight;
    if (typeof settled === 'string') expect(settled).toMatch(/stopped/);
    else expect(settled).toEqual(rankInMemory(codes, copies, vector, 50));
    expect(vectorWorkerReady()).toBe(false);

    const answers = vectorWorkerAnswers();
    expect(await hybridRank(tenant, embedder, 'ferry 4 tide 9')).toEqual(expected); // starts a new worker, not ready yet
    expect(vectorWorkerAnswers()).toBe(answers);
    await workerReady();
    expect(await hybridRank(tenant, embedder, 'ferry 4 tide 9')).toEqual(expected);
    expect(vectorWorkerAnswers()).toBe(answers + 1);
  });
});
