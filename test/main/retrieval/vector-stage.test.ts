import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteDocument } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { codeSetOf } from '../../../src-main/retrieval/code-cache.js';
import { CodeSet } from '../../../src-main/index/code-set.js';
import { quantizeInt8 } from '../../../src-main/index/quantize.js';
import { embedQuery, vectorTopK } from '../../../src-main/retrieval/search.js';
import { SIMHASH_BITS, simhash, simhashProjections } from '../../../src-main/index/simhash.js';
import { activeVectorIndex, codeTable, generationTables, int8Table } from '../../../src-main/index/vectors.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { CODES_WASM_BASE64 } from '../../../src-main/index/wasm/codes-wasm.js';
import { compileCodesWat } from '../../helpers/wasm.js';
import { closeTenants, cosine, countRows, dropTermIndex, openFreshTenant, storeChunks, tenantWithChunks, vectorRows } from '../../helpers/retrieval.js';
import { freshVault, tempDir, TEST_PASSPHRASE } from '../../helpers/vault.js';

afterEach(closeTenants);

const embedder = new HashedEmbedder({ dimension: 64 });
const WORDS = ['orbit', 'budget', 'wombat', 'invoice', 'glacier', 'turbine', 'contract', 'harbour', 'lantern', 'meadow', 'quartz', 'saddle'];
/** Deterministic short texts from a small vocabulary, so that near neighbours exist. */
const texts = (n: number, seed: number): string[] =>
  Array.from(
    { length: n },
    (_, i) => Array.from({ length: 6 }, (_, j) => WORDS[(i * 7 + j * (seed + 3) + ((i * j) % 5)) % WORDS.length]).join(' ') + ` item${i}`,
  );

function hamming(a: Buffer, b: Buffer): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}

describe('the int8 copies', () => {
  it('keep the direction of a vector: cosine with the float vector above 0.999', () => {
    const v = Float32Array.from({ length: 384 }, (_, i) => Math.sin(i * 1.7) * (i % 3 === 0 ? 0.01 : 1));
    const q = new Int8Array(quantizeInt8(v).buffer.slice(0));
    expect(cosine(v, q)).toBeGreaterThan(0.999);
    expect(Math.max(...q.map(Math.abs))).toBe(127);
    expect(quantizeInt8(new Float32Array(8)).equals(Buffer.alloc(8))).toBe(true);
  });
});

describe('the coarse stage', () => {
  it('returns exactly the nearest codes by Hamming distance, ties broken by chunk id', async () => {
    const { tenant, chunkIds, index } = await tenantWithChunks(embedder, texts(300, 1));
    const stored = new Map(
      (tenant.db.prepare(`SELECT chunk_id, code FROM ${codeTable(index)}`).all() as { chunk_id: number; code: Buffer }[]).map((r) => [r.chunk_id, r.code]),
    );
    expect(stored.size).toBe(chunkIds.length);
    for (const probe of [crypto.randomBytes(SIMHASH_BITS / 8), stored.get(chunkIds[17]!)!]) {
      for (const count of [1, 25, 299, 300, 1000]) {
        const expected = [...stored.entries()]
          .map(([id, code]) => ({ id, d: hamming(code, probe) }))
          .sort((a, b) => a.d - b.d || a.id - b.id)
          .slice(0, count)
          .map((e) => e.id)
          .sort((a, b) => a - b);
        const set = codeSetOf(tenant, index);
        expect(Array.from(set.hammingNearest(probe, count), (row) => set.ids[row]!).sort((a, b) => a - b)).toEqual(expected);
      }
    }
  });

  it('gives the same distances and scores with the WebAssembly SIMD kernels and in plain JS', () => {
    const n = 1237;
    const ids = Int32Array.from({ length: n }, (_, i) => 10 + 3 * i);
    const codes = crypto.randomBytes(n * (SIMHASH_BITS / 8));
    const simd = CodeSet.from(ids, codes);
    const plain = CodeSet.from(ids, codes, { simd: false });
    expect(simd.simd).toBe(true); // Node 20 on this machine runs WebAssembly SIMD: the kernels, not the fallback, are tested
    expect(plain.simd).toBe(false);
    const probe = crypto.randomBytes(SIMHASH_BITS / 8);
    const expected = Array.from({ length: n }, (_, r) => hamming(codes.subarray(r * 128, r * 128 + 128), probe));
    expect(Array.from(simd.distances(probe))).toEqual(expected);
    expect(Array.from(plain.distances(probe))).toEqual(expected);

    const projections = Float32Array.from({ length: SIMHASH_BITS }, () => Math.random() * 2 - 1);
    const rows = Int32Array.from({ length: 300 }, (_, i) => (i * 7919) % n);
    // The definition: the sum of the projections, + where the stored bit is set, - where it is clear.
    const direct = Array.from(rows, (r) => {
      let sum = 0;
      for (let j = 0; j < SIMHASH_BITS; j++) sum += (codes[r * 128 + (j >> 3)]! >> (j & 7)) & 1 ? projections[j]! : -projections[j]!;
      return sum;
    });
    for (const set of [simd, plain]) {
      const got = set.asymmetricScores(projections, rows);
      got.forEach((score, i) => expect(score).toBeCloseTo(direct[i]!, 2));
      expect(Array.from(got)).toEqual(Array.from(simd.asymmetricScores(projections, rows)));
    }
    expect(simd.nearest(projections, 40, 400)).toEqual(plain.nearest(projections, 40, 400));
  });

  it('loads the module compiled from codes.wat (run npm run build:wasm after editing it)', async () => {
    expect(Buffer.from(await compileCodesWat()).toString('base64')).toBe(CODES_WASM_BASE64);
  });

  it('sees chunks stored and deleted since the last search, through this connection', async () => {
    const { tenant, documents, index } = await tenantWithChunks(embedder, texts(50, 2));
    const probe = simhashProjections(await embedQuery(embedder, 'zeppelin marmalade'));
    expect(codeSetOf(tenant, index).nearest(probe, 100, 100)).toHaveLength(50);
    const added = await storeChunks(tenant, embedder, [{ documentKey: 'late', ordinal: 0, text: 'zeppelin marmalade' }]);
    const after = codeSetOf(tenant, index).nearest(probe, 1, 1);
    expect(after).toEqual([added.chunkIds[0]]);
    deleteDocument(tenant, added.documents.get('late')!);
    deleteDocument(tenant, documents.get('doc-1')!);
    expect(codeSetOf(tenant, index).nearest(probe, 100, 100)).toHaveLength(49);
    expect(codeSetOf(tenant, index).nearest(probe, 100, 100)).not.toContain(added.chunkIds[0]);
  });

  it('sees chunks another connection committed (another process, the CLI beside the app)', async () => {
    const dir = tempDir('bulkhead-vector-stage-');
    const first = await freshVault(dir);
    const { id } = first.createTenant('Shared file');
    const mine = first.openSession().open(id);
    await storeChunks(mine, embedder, texts(20, 3));
    const index = activeVectorIndex(mine)!;
    const probe = simhashProjections(await embedQuery(embedder, 'zeppelin marmalade'));
    expect(codeSetOf(mine, index).nearest(probe, 100, 100)).toHaveLength(20);

    const second = new Vault(dir);
    await second.unlock(TEST_PASSPHRASE);
    const theirs = second.openSession().open(id);
    const added = await storeChunks(theirs, embedder, [{ documentKey: 'theirs', ordinal: 0, text: 'zeppelin marmalade' }]);
    second.lock();

    expect(codeSetOf(mine, index).nearest(probe, 1, 1)).toEqual([added.chunkIds[0]]);
    first.lock();
  });
});

describe('vectorTopK', () => {
  it('ranks like exact cosine search when every chunk is a candidate', async () => {
    const corpus = texts(400, 4);
    const { tenant, chunkIds, index } = await tenantWithChunks(embedder, corpus);
    const vectors = await embedder.embed(corpus);
    let agree = 0;
    for (const query of ['budget wombat', 'glacier harbour lantern', 'quartz saddle turbine meadow']) {
      const q = await embedQuery(embedder, query);
      const exact = vectors
        .map((v, i) => ({ id: chunkIds[i]!, s: cosine(v, q) }))
        .sort((a, b) => b.s - a.s || a.id - b.id)
        .slice(0, 10)
        .map((e) => e.id);
      const got = vectorTopK(tenant, index, q, 10);
      expect(got.map((h) => h.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(got[0]!.score).toBeCloseTo(cosine(vectors[chunkIds.indexOf(got[0]!.chunkId)]!, q), 2);
      agree += got.filter((h) => exact.includes(h.chunkId)).length;
    }
    // int8 copies may swap near-ties at the edge of the top 10, nothing more.
    expect(agree).toBeGreaterThanOrEqual(28);
  });

  it('gives nothing for a query vector with no features', async () => {
    const { tenant, index } = await tenantWithChunks(embedder, texts(5, 5));
    expect(vectorTopK(tenant, index, new Float32Array(64), 10)).toEqual([]);
  });
});

describe('tenant migration 5: vector codes out of vec0', () => {
  it("moves an older tenant's codes into plain tables and makes its int8 copies; search works as before", async () => {
    const dir = tempDir('bulkhead-migrate-vectors-');
    const vault = await freshVault(dir);
    const { id } = vault.createTenant('Older tenant');
    let tenant = vault.openSession().open(id);
    const corpus = texts(60, 6);
    const { index, chunkIds } = await storeChunks(tenant, embedder, corpus);
    const codes = tenant.db.prepare(`SELECT chunk_id, code FROM ${codeTable(index)} ORDER BY chunk_id`).all() as { chunk_id: number; code: Buffer }[];
    const int8 = tenant.db.prepare(`SELECT chunk_id, vector FROM ${int8Table(index)} ORDER BY chunk_id`).all();
    // Rewind the file to the schema-4 layout: codes in a vec0 bit table, no int8 copies.
    tenant.db.exec(`DROP TABLE ${codeTable(index)}; DROP TABLE ${int8Table(index)};
      CREATE VIRTUAL TABLE chunk_codes_${index.generation} USING vec0(chunk_id INTEGER PRIMARY KEY, code bit[${SIMHASH_BITS}]);`);
    const insert = tenant.db.prepare(`INSERT INTO chunk_codes_${index.generation} (chunk_id, code) VALUES (?, vec_bit(?))`);
    for (const c of codes) insert.run(BigInt(c.chunk_id), c.code);
    // ...and without the term index of migration 6, which then rebuilds it from the chunks.
    dropTermIndex(tenant);
    tenant.db.pragma('user_version = 4');
    vault.lock();

    await vault.unlock(TEST_PASSPHRASE);
    tenant = vault.openSession().open(id);
    expect(tenant.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(5);
    expect(countRows(tenant, "SELECT name FROM sqlite_master WHERE name GLOB 'chunk_codes_*'")).toBe(0);
    expect(generationTables(index).map((t) => countRows(tenant, `SELECT name FROM sqlite_master WHERE name = ?`, t))).toEqual([1, 1, 1]);
    expect(vectorRows(tenant, index)).toBe(chunkIds.length);
    expect(tenant.db.prepare(`SELECT chunk_id, code FROM ${codeTable(index)} ORDER BY chunk_id`).all()).toEqual(codes);
    expect(tenant.db.prepare(`SELECT chunk_id, vector FROM ${int8Table(index)} ORDER BY chunk_id`).all()).toEqual(int8);
    const hits = vectorTopK(tenant, index, await embedQuery(embedder, corpus[7]!), 3);
    expect(hits[0]!.chunkId).toBe(chunkIds[7]);
    vault.lock();
  });
});
