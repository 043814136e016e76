import { afterEach, describe, expect, it } from 'vitest';
import { deleteDocument } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/ingest/embedders/hashed.js';
import { codeSetOf, nearestCodes } from '../../../src-main/retrieval/code-cache.js';
import { readCodePack, readCodeRows, refreshCodePack } from '../../../src-main/retrieval/code-pack.js';
import { reembedTenant } from '../../../src-main/retrieval/reembed.js';
import { embedQuery, vectorTopK } from '../../../src-main/retrieval/search.js';
import { simhashProjections } from '../../../src-main/retrieval/simhash.js';
import { activeVectorIndex, codePackTable, codeTable } from '../../../src-main/retrieval/vectors.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { closeTenants, countRows, storeChunks, tenantWithChunks } from '../../helpers/retrieval.js';
import { freshVault, tempDir, TEST_PASSPHRASE } from '../../helpers/vault.js';

afterEach(closeTenants);

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
    const rows = readCodeRows(tenant.db, codeTable(index), 'test');
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
    expect(nearestCodes(tenant, index, probe, 1, 1)).toEqual([added.chunkIds[0]]);

    refreshCodePack(tenant, index, { minCodes: 1 });
    expect(codeSetOf(tenant, index).size).toBe(81);
    deleteDocument(tenant, added.documents.get('late')!);
    deleteDocument(tenant, documents.get('doc-1')!);
    expect(readCodePack(tenant, index)).toBeNull();
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
