import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { codeSetOf, codesInMemory } from '../../../src-main/retrieval/code-cache.js';
import { int8CopiesOf, LOAD_PART, loadInt8CopiesNow, readInt8PartJob } from '../../../src-main/retrieval/int8-cache.js';
import { int8Distances } from '../../../src-main/retrieval/vector-stage.js';
import { quantizeInt8 } from '../../../src-main/index/quantize.js';
import { chunkVectors, feedbackVectors } from '../../../src-main/retrieval/feedback.js';
import { embedQuery, hybridRank, int8Rerank, int8RerankSql, vectorTopK } from '../../../src-main/retrieval/search.js';
import { int8Table } from '../../../src-main/index/vectors.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import { closeTenants, storeChunks, tenantWithChunks } from '../../helpers/retrieval.js';
import { freshVault, tempDir } from '../../helpers/vault.js';

afterEach(closeTenants);
afterAll(stopBackgroundReader);

const embedder = new HashedEmbedder({ dimension: 64 });
const texts = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `${tag} report ${i} on harbour ${i % 7}, turbine ${i % 11} and gust ${i % 13} near pier ${i % 5}`);
/** Small thresholds so a test tenant of a few hundred chunks is kept in memory, loaded in several parts. */
const TUNING = { minCount: 1, part: 37 };

describe('int8 copies in memory', () => {
  it('give exactly the distances of the SQLite re-rank (sqlite-vec), so both paths rank the same', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(300, 'alpha'));
    const statement = tenant.db.prepare(int8RerankSql(int8Table(index)));
    const size = codeSetOf(tenant, index).ids.length;
    expect(int8CopiesOf(tenant, index, size, true, TUNING)).toBeNull(); // not yet: it loads in the background
    const copies = await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    expect(copies.ids.length).toBe(300);
    expect(Array.from(copies.ids)).toEqual([...copies.ids].sort((a, b) => a - b));
    for (const q of ['harbour 3 turbine', 'gust near pier 4', 'alpha report 17', 'zeppelin']) {
      const vector = await embedQuery(embedder, q);
      const all = Array.from(copies.ids);
      const query = quantizeInt8(vector);
      const memory = int8Distances(copies, query, all);
      const sql = statement.raw().all(query, ...all.slice(0, 800), ...Array(800 - all.length).fill(null)) as [number, number][];
      // Bit for bit: the same float for every chunk.
      expect(new Map(memory.map((m) => [m.chunkId, m.distance]))).toEqual(new Map(sql.map(([id, d]) => [id, d])));
      expect(int8Rerank(tenant, index, query, all, 50)).toHaveLength(50);
    }
  });

  it('loadInt8CopiesNow reads and keeps the same copies a background load keeps, over several parts', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(LOAD_PART + 150, 'iota'));
    const size = codeSetOf(tenant, index).ids.length;
    int8CopiesOf(tenant, index, size, true, TUNING);
    const background = await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 20_000 });
    const now = await loadInt8CopiesNow(tenant, index);
    expect(now).not.toBeNull();
    expect(now).not.toBe(background);
    expect(int8CopiesOf(tenant, index, size, false)).toBe(now); // kept, as current
    expect(Array.from(now!.ids)).toEqual(Array.from(background.ids));
    expect(Array.from(now!.vectors)).toEqual(Array.from(background.vectors));
    expect(Array.from(now!.squares)).toEqual(Array.from(background.squares));
  });

  it('vectorTopK ranks the same before and after the copies are in memory', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(260, 'beta'));
    const queries = ['harbour 2 turbine 5', 'beta report 100', 'gust 7 pier 1'];
    const before = [];
    for (const q of queries) before.push(vectorTopK(tenant, index, await embedQuery(embedder, q), 40, { loadInt8: false }));
    const size = codeSetOf(tenant, index).ids.length;
    int8CopiesOf(tenant, index, size, true, TUNING);
    await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    for (const [i, q] of queries.entries()) expect(vectorTopK(tenant, index, await embedQuery(embedder, q), 40)).toEqual(before[i]);
  });

  it('stop being used after a vector write: the new chunk is found, by SQLite, until they are read again', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(120, 'gamma'));
    const size = codeSetOf(tenant, index).ids.length;
    int8CopiesOf(tenant, index, size, true, TUNING);
    await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    const added = await storeChunks(tenant, embedder, [{ documentKey: 'late', ordinal: 0, text: 'zeppelin marmalade' }]);
    expect(int8CopiesOf(tenant, index, size + 1, false, TUNING)).toBeNull();
    const hits = vectorTopK(tenant, index, await embedQuery(embedder, 'zeppelin marmalade'), 1, { loadInt8: false });
    expect(hits[0]?.chunkId).toBe(added.chunkIds[0]);
    // Loaded again, they hold the new chunk.
    int8CopiesOf(tenant, index, size + 1, true, TUNING);
    const again = await vi.waitFor(() => int8CopiesOf(tenant, index, size + 1, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    expect(Array.from(again.ids)).toContain(added.chunkIds[0]);
  });

  it('are not kept for small tenants, nor for a tenant closed while they load', async () => {
    const small = await tenantWithChunks(embedder, texts(50, 'delta'));
    int8CopiesOf(small.tenant, small.index, 50, true); // product thresholds: 50 is below IN_MEMORY_MIN
    await new Promise((r) => setTimeout(r, 300));
    expect(int8CopiesOf(small.tenant, small.index, 50, false)).toBeNull();

    // A tenant closed while its copies load: the load stops between parts and keeps nothing.
    const dir = tempDir('bulkhead-int8-close-');
    const vault = await freshVault(dir);
    const session = vault.openSession();
    const tenant = session.open(vault.createTenant('Closing').id);
    const { index } = await storeChunks(tenant, embedder, texts(200, 'epsilon'));
    int8CopiesOf(tenant, index, 200, true, { minCount: 1, part: 10 });
    session.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(tenant.isOpen).toBe(false);
    vault.lock();
  });

  it('a search is warm (may start the load) once the codes are in memory, not right after opening', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(100, 'zeta'));
    expect(codesInMemory(tenant, index)).toBe(false);
    await hybridRank(tenant, embedder, 'harbour 3');
    expect(codesInMemory(tenant, index)).toBe(true);
    await storeChunks(tenant, embedder, [{ documentKey: 'late', ordinal: 0, text: 'zeppelin marmalade' }]);
    expect(codesInMemory(tenant, index)).toBe(false); // a vector write: the next search reads them again
  });

  it('the part job reads rows after an id, in order, each array in its own buffer', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(30, 'eta'));
    const first = readInt8PartJob(tenant, index.generation, 0, 10);
    const second = readInt8PartJob(tenant, index.generation, first.ids[9]!, 100);
    expect(first.ids.length).toBe(10);
    expect(second.ids.length).toBe(20);
    expect(second.ids[0]!).toBeGreaterThan(first.ids[9]!);
    expect(first.vectors.length).toBe(10 * index.dimension);
    expect(first.vectors.byteOffset).toBe(0);
    expect(first.vectors.byteLength).toBe(first.vectors.buffer.byteLength);
  });

  it('give Rocchio the same feedback vectors as the int8 rows: unit length, close to the floats, missing ids left out', async () => {
    const { tenant, index, chunkIds } = await tenantWithChunks(embedder, texts(80, 'theta'));
    const ids = [chunkIds[3]!, 999_999, chunkIds[40]!, chunkIds[79]!];
    const fromRows = feedbackVectors(tenant, index, ids);
    const size = codeSetOf(tenant, index).ids.length;
    int8CopiesOf(tenant, index, size, true, TUNING);
    await vi.waitFor(() => int8CopiesOf(tenant, index, size, false, TUNING) ?? Promise.reject(new Error('not loaded')), { timeout: 10_000 });
    const fromMemory = feedbackVectors(tenant, index, ids);
    expect(fromRows).toHaveLength(3);
    expect(fromMemory.map((v) => Array.from(v))).toEqual(fromRows.map((v) => Array.from(v)));
    const floats = chunkVectors(tenant, index, [chunkIds[3]!, chunkIds[40]!, chunkIds[79]!]);
    fromRows.forEach((v, i) => {
      let dot = 0;
      let norm = 0;
      for (let d = 0; d < v.length; d++) {
        dot += v[d]! * floats[i]![d]!;
        norm += v[d]! * v[d]!;
      }
      expect(norm).toBeCloseTo(1, 5);
      expect(dot).toBeGreaterThan(0.99); // the float vectors are unit length too
    });
  });
});
