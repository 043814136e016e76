import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deleteDocument } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { codeSetOf, codesReady, prefetchCodes } from '../../../src-main/retrieval/code-cache.js';
import { readCodePack, readCodeRows, refreshCodePack, sharesFit } from '../../../src-main/index/code-pack.js';
import { reembedTenant } from '../../../src-main/retrieval/reembed.js';
import { embedQuery, hybridRank, vectorTopK } from '../../../src-main/retrieval/search.js';
import { simhashProjections } from '../../../src-main/index/simhash.js';
import { activeVectorIndex, codePackTable, codeTable } from '../../../src-main/index/vectors.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { closeTenants, countRows, storeChunks, tenantWithChunks } from '../../helpers/retrieval.js';
import { freshVault, tempDir, TEST_PASSPHRASE } from '../../helpers/vault.js';

afterEach(closeTenants);
afterAll(stopBackgroundReader);

const embedder = new HashedEmbedder({ dimension: 64 });
const texts = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag} report ${i} on harbour ${i % 7} and turbine ${i % 11}`);
const packExists = (tenant: TenantHandle, generation: number): boolean =>
  countRows(tenant, 'SELECT name FROM sqlite_master WHERE name = ?', codePackTable({ generation })) === 1;

describe('the code pack', () => {
  it('holds exactly the per-chunk codes, in parts, and is what a fresh handle reads', async () => {
    const dir = tempDir('bulkhead-code-pack-');
    const vault = await freshVault(dir);
    const { id } = vault.createTenant('Packed');
    let tenant = vault.openSession().open(id);
    const { index, chunkIds } = await storeChunks(tenant, embedder, texts(120, 'alpha'));
    expect(readCodePack(tenant, index)).toBeNull(); // never built
    expect(refreshCodePack(tenant, index, { minCodes: 1 })).toBe(true);
    expect(refreshCodePack(tenant, index, { minCodes: 1 })).toBe(false); // already current
    const rows = readCodeRows(tenant, index);
    const pack = readCodePack(tenant, index)!;
    expect(Array.from(pack.ids)).toEqual(chunkIds.slice().sort((a, b) => a - b));
    expect(Array.from(pack.ids)).toEqual(Array.from(rows.ids));
    expect(Buffer.from(pack.codes).equals(Buffer.from(rows.codes))).toBe(true);
    vault.lock();

    // A fresh handle loads the pack: damage it (a current pack that does not read back whole)
    // and the load says so, instead of silently reading the per-chunk table.
    await vault.unlock(TEST_PASSPHRASE);
    tenant = vault.openSession().open(id);
    tenant.db.prepare(`UPDATE ${codePackTable(index)} SET ids = substr(ids, 1, 8) WHERE part = 0`).run();
    expect(() => codeSetOf(tenant, index)).toThrow(expect.objectContaining({ code: 'TENANT_CORRUPT' }));
    vault.lock();
  });

  it('goes stale with any vector write, and search then reads the per-chunk codes: nothing is missed or resurrected', async () => {
    const { tenant, index, documents } = await tenantWithChunks(embedder, texts(80, 'beta'));
    refreshCodePack(tenant, index, { minCodes: 1 });
    const probe = simhashProjections(await embedQuery(embedder, 'zeppelin marmalade'));
    const added = await storeChunks(tenant, embedder, [{ documentKey: 'late', ordinal: 0, text: 'zeppelin marmalade' }]);
    expect(readCodePack(tenant, index)).toBeNull();
    expect(codeSetOf(tenant, index).nearest(probe, 1, 1)).toEqual([added.chunkIds[0]]);

    refreshCodePack(tenant, index, { minCodes: 1 });
    expect(codeSetOf(tenant, index).size).toBe(81);
    deleteDocument(tenant, added.documents.get('late')!);
    deleteDocument(tenant, documents.get('doc-1')!);
    expect(readCodePack(tenant, index)).toBeNull(); // 79 codes: the refresh after a delete drops a pack this small
    const after = codeSetOf(tenant, index);
    expect(after.size).toBe(countRows(tenant, `SELECT chunk_id FROM ${codeTable(index)}`));
    expect(Array.from(after.ids)).not.toContain(added.chunkIds[0]);
  });

  it('is left out below the minimum size, dropped when a tenant shrinks below it, and dropped with its generation', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(30, 'gamma'));
    expect(refreshCodePack(tenant, index)).toBe(false); // 30 codes: below PACK_MIN_CODES
    expect(packExists(tenant, index.generation)).toBe(false);
    expect(refreshCodePack(tenant, index, { minCodes: 1 })).toBe(true);
    await storeChunks(tenant, embedder, texts(1, 'delta'));
    expect(refreshCodePack(tenant, index, { minCodes: 1000 })).toBe(false);
    expect(packExists(tenant, index.generation)).toBe(false);

    refreshCodePack(tenant, index, { minCodes: 1 });
    const fresh = new HashedEmbedder();
    const next = await reembedTenant(tenant, { kind: 'hash' }, fresh);
    expect(next.generation).toBe(index.generation + 1);
    expect(packExists(tenant, index.generation)).toBe(false);
    const query = await embedQuery(fresh, texts(1, 'gamma')[0]!);
    expect(vectorTopK(tenant, activeVectorIndex(tenant)!, query, 3)).toHaveLength(3);
  });
});

describe('reading the pack on two threads after opening', () => {
  async function packedTenant(n: number): Promise<{ dir: string; id: string; vault: Awaited<ReturnType<typeof freshVault>> }> {
    const dir = tempDir('bulkhead-code-prefetch-');
    const vault = await freshVault(dir);
    const { id } = vault.createTenant('Prefetched');
    const tenant = vault.openSession().open(id);
    const { index } = await storeChunks(tenant, embedder, texts(n, 'epsilon'));
    refreshCodePack(tenant, index, { minCodes: 1, partSize: 16 }); // 10 parts for 150 codes
    return { dir, id, vault };
  }

  it("assembles exactly the per-chunk codes from the background share and this thread's, and searches the same", async () => {
    const { id, vault } = await packedTenant(150);
    const session = vault.openSession();
    let tenant = session.open(id);
    let index = activeVectorIndex(tenant)!;
    const rows = readCodeRows(tenant, index);
    prefetchCodes(tenant, index);
    expect(await codesReady(tenant, index)).toBe(true); // both shares read and joined
    const set = codeSetOf(tenant, index);
    expect(Array.from(set.ids)).toEqual(Array.from(rows.ids));
    const probe = simhashProjections(await embedQuery(embedder, 'harbour 3 turbine 5'));
    const fromPrefetch = set.nearest(probe, 20, 60);

    // The same search through hybridRank right after another open (prefetch inside), and warm.
    tenant = session.open(id);
    index = activeVectorIndex(tenant)!;
    const first = await hybridRank(tenant, embedder, 'epsilon report harbour 3');
    const again = await hybridRank(tenant, embedder, 'epsilon report harbour 3');
    expect(first.fused).toEqual(again.fused);
    expect(codeSetOf(tenant, index).nearest(probe, 20, 60)).toEqual(fromPrefetch);
    vault.lock();
  });

  it('drops what it read when a vector write lands meanwhile, so the new chunk is not missed', async () => {
    const { id, vault } = await packedTenant(100);
    const tenant = vault.openSession().open(id);
    const index = activeVectorIndex(tenant)!;
    prefetchCodes(tenant, index);
    const added = await storeChunks(tenant, embedder, [{ documentKey: 'late', ordinal: 0, text: 'zeppelin marmalade' }]);
    expect(await codesReady(tenant, index)).toBe(false); // the pack went stale under it
    const probe = simhashProjections(await embedQuery(embedder, 'zeppelin marmalade'));
    expect(codeSetOf(tenant, index).nearest(probe, 1, 1)).toEqual([added.chunkIds[0]]);
    expect(codeSetOf(tenant, index).size).toBe(101);
    vault.lock();
  });

  it('lets a tenant close while the background share is being read', async () => {
    const { id, vault } = await packedTenant(100);
    const session = vault.openSession();
    const tenant = session.open(id);
    const index = activeVectorIndex(tenant)!;
    prefetchCodes(tenant, index);
    session.close();
    await expect(codesReady(tenant, index)).resolves.toBe(false);
    vault.lock();
  });

  it('joins two shares only when they are the first part and the rest of one same pack', () => {
    const share = (ids: number[], writes = 3, count = 4) => ({ ids: Int32Array.from(ids), codes: new Uint8Array(ids.length * 128), writes, count });
    expect(sharesFit(share([1, 2]), share([5, 9]))).toBe(true);
    expect(sharesFit(share([1, 2]), share([5, 9], 4))).toBe(false); // another pack
    expect(sharesFit(share([1, 2]), share([2, 9]))).toBe(false); // overlapping
    expect(sharesFit(share([1, 2]), share([5]))).toBe(false); // not whole
  });
});
