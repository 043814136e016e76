// Every acceleration of the vector side gives the reference's answer (vector-side.ts): the
// reference reads everything from SQLite for each search; the product keeps the codes in memory
// (read from the code pack, partly on the background reader right after opening), keeps the int8
// copies in memory once loaded, and ranks warm searches on the vector worker.
import fs from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { readCodePack, refreshCodePack } from '../../../src-main/index/code-pack.js';
import { codeSetOf, codesInMemory } from '../../../src-main/retrieval/code-cache.js';
import { int8CopiesOf } from '../../../src-main/retrieval/int8-cache.js';
import { embedQuery, hybridRank, referenceVectorTopK, vectorTopK, type HybridRanking } from '../../../src-main/retrieval/search.js';
import { startVectorWorker, stopVectorWorker, useVectorWorker, vectorWorkerAnswers, vectorWorkerReady } from '../../../src-main/retrieval/vector-worker.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { deleteTenantMeta } from '../../../src-main/vault/tenant-meta.js';
import { storeChunks } from '../../helpers/retrieval.js';
import { freshVault, tempDir } from '../../helpers/vault.js';

afterAll(async () => {
  useVectorWorker(true);
  await stopVectorWorker();
  await stopBackgroundReader();
});

const embedder = new HashedEmbedder({ dimension: 64 });
const texts = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${tag} entry ${i} on glacier ${i % 7}, moraine ${i % 11}, crevasse ${i % 13} and serac ${i % 5}`);
const QUERIES = ['glacier 3 moraine', 'crevasse 9 serac 2 omega', 'omega entry 140', 'serac', 'moraine 10 glacier 6 crevasse 1'];
const TUNING = { minCount: 1, part: 40 };

describe('the same answer', () => {
  it('hybridRank and vectorTopK give the reference ranking in every state of the accelerations', async () => {
    const dir = tempDir('bulkhead-same-answer-');
    const vault = await freshVault(dir);
    try {
      const { id } = vault.createTenant('Same answer');
      const session = vault.openSession();
      let tenant: TenantHandle = session.open(id);
      const { index } = await storeChunks(tenant, embedder, texts(320, 'omega'));
      refreshCodePack(tenant, index, { minCodes: 1, partSize: 16 }); // 20 parts: the prefetch splits them
      const vectors = await Promise.all(QUERIES.map((q) => embedQuery(embedder, q)));

      // The reference, on a freshly opened tenant: it keeps no codes or copies.
      tenant = session.open(id);
      const reference: HybridRanking[] = [];
      for (const q of QUERIES) reference.push(await hybridRank(tenant, embedder, q, {}, undefined, 'reference'));
      const referenceKnn = vectors.map((v) => referenceVectorTopK(tenant, index, v, 100));
      expect(tenant.cache.names()).not.toEqual(expect.arrayContaining(['vector codes']));
      expect(reference.every((r) => r.vector.length > 0 && r.bm25.length > 0)).toBe(true);

      const same = async (state: string): Promise<void> => {
        for (const [i, q] of QUERIES.entries()) {
          expect({ state, q, ranking: await hybridRank(tenant, embedder, q) }).toEqual({ state, q, ranking: reference[i] });
          expect({ state, q, knn: vectorTopK(tenant, index, vectors[i]!, 100, { loadInt8: false }) }).toEqual({ state, q, knn: referenceKnn[i] });
        }
      };

      // 1. Right after opening: the codes from the pack, most parts read on the background reader.
      tenant = session.open(id);
      useVectorWorker(false);
      expect(codesInMemory(tenant, index)).toBe(false);
      expect(await hybridRank(tenant, embedder, QUERIES[0]!)).toEqual(reference[0]);
      expect(codesInMemory(tenant, index)).toBe(true);
      // 2. Warm: the codes in memory, the int8 re-rank in SQLite.
      await same('codes in memory');
      // 3. The int8 copies in memory.
      const size = codeSetOf(tenant, index).ids.length;
      int8CopiesOf(tenant, index, size, true, TUNING);
      await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 15_000 });
      await same('int8 copies in memory');
      // 4. The vector worker.
      useVectorWorker(true);
      startVectorWorker();
      await vi.waitFor(() => expect(vectorWorkerReady()).toBe(true), { timeout: 15_000 });
      const answers = vectorWorkerAnswers();
      await same('vector worker');
      expect(vectorWorkerAnswers() - answers).toBe(QUERIES.length);
      // 5. No pack: the codes from the per-chunk rows.
      deleteTenantMeta(tenant, 'knowledge.codepack');
      tenant = session.open(id);
      expect(readCodePack(tenant, index)).toBeNull();
      await same('per-chunk codes');
    } finally {
      vault.lock();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
