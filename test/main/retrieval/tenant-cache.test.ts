// The per-tenant cache on the handle (vault/tenant-cache.ts): every memo a search keeps for the
// open tenant lives there, and none of it outlives the handle.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { codeSetOf } from '../../../src-main/retrieval/code-cache.js';
import { int8CopiesOf } from '../../../src-main/retrieval/int8-cache.js';
import { hybridRank } from '../../../src-main/retrieval/search.js';
import { startVectorWorker, stopVectorWorker, vectorWorkerAnswers, vectorWorkerHolds, vectorWorkerReady } from '../../../src-main/retrieval/vector-worker.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import { cacheKey, TenantCache, wipe } from '../../../src-main/vault/tenant-cache.js';
import { closeTenants, openFreshTenant, tenantWithChunks } from '../../helpers/retrieval.js';

afterEach(closeTenants);
afterAll(async () => {
  await stopVectorWorker();
  await stopBackgroundReader();
});

const embedder = new HashedEmbedder({ dimension: 64 });
const texts = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${tag} note ${i} on orchard ${i % 7}, cider ${i % 11}, frost ${i % 13} and barn ${i % 5}`);
const TUNING = { minCount: 1, part: 50 };
const allZero = (a: ArrayBufferView): boolean => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).every((b) => b === 0);

describe('the tenant cache', () => {
  it('a tenant searched warm (codes, int8 copies, stems, counts, statements, the vector worker) keeps nothing reachable once closed', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(400, 'pear'));
    startVectorWorker();
    await vi.waitFor(() => expect(vectorWorkerReady()).toBe(true), { timeout: 15_000 });
    await hybridRank(tenant, embedder, 'orchard 3 cider');
    const codes = codeSetOf(tenant, index);
    int8CopiesOf(tenant, index, codes.ids.length, true, TUNING);
    const copies = await vi.waitFor(() => int8CopiesOf(tenant, index, codes.ids.length, false, TUNING) ?? Promise.reject(new Error('not loaded')), {
      timeout: 10_000,
    });
    const answers = vectorWorkerAnswers();
    await hybridRank(tenant, embedder, 'frost 9 barn 2 pear'); // warm: ranked on the vector worker
    expect(vectorWorkerAnswers()).toBe(answers + 1);
    expect(await vectorWorkerHolds()).toBe(1);
    expect(tenant.cache.names()).toEqual(expect.arrayContaining(['vector codes', 'int8 copies', 'stems', 'document frequencies', 'vector worker set']));
    expect(allZero(codes.ids)).toBe(false);
    expect(allZero(copies.vectors) || allZero(copies.ids)).toBe(false);

    closeTenants();
    expect(tenant.cache.size).toBe(0);
    expect(tenant.cache.names()).toEqual([]);
    // What a search or the worker may still hold a reference to is zero-filled: the codes (shared
    // with the worker), the int8 copies (their ids, squares and the shared memory of the vectors).
    expect(allZero(codes.ids)).toBe(true);
    expect(codes.nearest(new Float32Array(1024).fill(1), 5, 5).every((id) => id === 0)).toBe(true);
    expect([copies.ids, copies.vectors, copies.squares].every(allZero)).toBe(true);
    expect(copies.memory && allZero(new Uint8Array(copies.memory.buffer))).toBe(true);
    expect(await vectorWorkerHolds()).toBe(0); // the worker let go of the tenant's set
  });

  it('another tenant open at the same time has a cache of its own', async () => {
    const a = await tenantWithChunks(embedder, texts(120, 'plum'));
    const b = await tenantWithChunks(embedder, texts(80, 'fig'));
    await hybridRank(a.tenant, embedder, 'orchard');
    await hybridRank(b.tenant, embedder, 'orchard');
    expect(codeSetOf(a.tenant, a.index).ids.length).toBe(120);
    expect(codeSetOf(b.tenant, b.index).ids.length).toBe(80);
    expect(a.tenant.cache).not.toBe(b.tenant.cache);
  });

  it('releases each entry once on close (one failing does not stop the others), and at once when set after the close', async () => {
    const tenant = await openFreshTenant();
    const calls: string[] = [];
    const A = cacheKey<string>('a', (v) => calls.push(v));
    const BAD = cacheKey<string>('bad', () => {
      throw new Error('a failing release');
    });
    const B = cacheKey<string>('b', (v) => calls.push(v));
    tenant.cache.set(A, 'a');
    tenant.cache.set(BAD, 'x');
    expect(tenant.cache.get(B, () => 'b')).toBe('b');
    expect(tenant.cache.get(B, () => 'other')).toBe('b'); // kept: not built again
    expect(calls).toEqual([]);
    closeTenants();
    expect(calls).toEqual(['a', 'b']);
    tenant.cache.set(A, 'late');
    expect(calls).toEqual(['a', 'b', 'late']);
    expect(tenant.cache.get(A)).toBeUndefined();
    expect(tenant.cache.size).toBe(0);
  });

  it('wipe zero-fills typed arrays, memories and nested values, and empties maps', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    new Uint8Array(memory.buffer).fill(7);
    const nested = { a: Int32Array.of(1, 2, 3), deeper: { b: Buffer.from('secret') }, list: [Float32Array.of(1.5)], memory };
    const map = new Map([['k', Uint8Array.of(9)]]);
    wipe(nested);
    wipe(map);
    expect([nested.a, nested.deeper.b, nested.list[0]!].every(allZero)).toBe(true);
    expect(allZero(new Uint8Array(memory.buffer))).toBe(true);
    expect(map.size).toBe(0);
    expect(new TenantCache().size).toBe(0);
  });
});
