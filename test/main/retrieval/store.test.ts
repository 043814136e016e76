import { afterEach, describe, expect, it } from 'vitest';
import { deleteDocument, getDocument, storeDocument } from '../../../src-main/ingest/documents.js';
import type { Embedder } from '../../../src-main/embed/embedder.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { activeVectorIndex, vectorIndexFor, vectorTable } from '../../../src-main/index/vectors.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { closeTenants, countRows, openFreshTenant, storeChunks, tenantWithChunks, vectorRows } from '../../helpers/retrieval.js';

afterEach(closeTenants);

const ftsHits = (tenant: TenantHandle, match: string): number => countRows(tenant, 'SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?', match);
const inVocab = (tenant: TenantHandle, term: string): number => countRows(tenant, 'SELECT term FROM chunks_fts_vocab WHERE term = ?', term);
/** Segment blocks of the full-text index that still hold `term`'s bytes (deleted or not). */
const inSegments = (tenant: TenantHandle, term: string): number =>
  countRows(tenant, 'SELECT id FROM chunks_fts_data WHERE instr(block, CAST(? AS BLOB)) > 0', term);

describe('storeDocument / deleteDocument', () => {
  it('a deleted document leaves no chunk, vector or FTS row behind', async () => {
    const embedder = new HashedEmbedder({ dimension: 32 });
    const { tenant, documents, index } = await tenantWithChunks(embedder, [
      { documentKey: 'a', ordinal: 0, text: 'first part' },
      { documentKey: 'a', ordinal: 1, text: 'second part' },
      { documentKey: 'b', ordinal: 0, text: 'another document' },
    ]);
    expect(countRows(tenant, 'SELECT id FROM chunks')).toBe(3);
    expect(vectorRows(tenant, index)).toBe(3);
    expect(ftsHits(tenant, '"part"')).toBe(2);

    const a = documents.get('a')!;
    expect(deleteDocument(tenant, a)).toMatchObject({ id: a, title: 'a', chunkCount: 2 });
    expect(countRows(tenant, 'SELECT id FROM documents')).toBe(1);
    expect(countRows(tenant, 'SELECT id FROM chunks')).toBe(1);
    expect(countRows(tenant, 'SELECT id FROM chunks WHERE document_id = ?', a)).toBe(0);
    expect(vectorRows(tenant, index)).toBe(1);
    expect(ftsHits(tenant, '"part"')).toBe(0);
    expect(ftsHits(tenant, '"another"')).toBe(1);
    expect(() => getDocument(tenant, a)).toThrow(expect.objectContaining({ code: 'DOCUMENT_NOT_FOUND' }));
    expect(() => deleteDocument(tenant, a)).toThrow(expect.objectContaining({ code: 'DOCUMENT_NOT_FOUND' }));
  });

  it("a deleted chunk's words leave the full-text index, not only its hits", async () => {
    const embedder = new HashedEmbedder({ dimension: 32 });
    const marker = 'qzxjvkwmarkerword'; // Porter leaves it as it is
    const { tenant, index, chunkIds, documentIds } = await tenantWithChunks(embedder, [`keep this ${'filler '.repeat(50)}`, `secret ${marker} text`]);
    const secret = chunkIds[1]!;
    // Before: the term is in the vocabulary and in the index's segments, the chunk has its rows.
    expect(inVocab(tenant, marker)).toBe(1);
    expect(inSegments(tenant, marker)).toBeGreaterThan(0);
    expect(countRows(tenant, `SELECT chunk_id FROM ${vectorTable(index)} WHERE chunk_id = ?`, BigInt(secret))).toBe(1);

    deleteDocument(tenant, documentIds[1]!);
    expect(inVocab(tenant, marker)).toBe(0);
    // The merge (optimize) rewrote the segments: the deleted term's bytes are gone from them too.
    expect(inSegments(tenant, marker)).toBe(0);
    expect(countRows(tenant, 'SELECT id FROM chunks WHERE id = ?', secret)).toBe(0);
    expect(countRows(tenant, `SELECT chunk_id FROM ${vectorTable(index)} WHERE chunk_id = ?`, BigInt(secret))).toBe(0);
    // What was kept is still found.
    expect(ftsHits(tenant, '"filler"')).toBe(1);
    expect(inVocab(tenant, 'filler')).toBe(1);
  });

  it('without the merge the deleted term would linger in the segments (so the check above can fail)', async () => {
    const embedder = new HashedEmbedder({ dimension: 32 });
    const marker = 'qzxjvkwmarkerword';
    const { tenant, documentIds } = await tenantWithChunks(embedder, [`keep this ${'filler '.repeat(50)}`, `secret ${marker} text`]);
    // Only the cascade and the chunks_fts_delete trigger: what deleteDocument does before optimizing.
    tenant.db.prepare('DELETE FROM documents WHERE id = ?').run(documentIds[1]);
    expect(ftsHits(tenant, `"${marker}"`)).toBe(0);
    expect(inSegments(tenant, marker)).toBeGreaterThan(0);
  });

  it('refuses vectors from another embedder than the one the tenant was indexed with', async () => {
    const embedder = new HashedEmbedder({ dimension: 32 });
    const { tenant, index } = await tenantWithChunks(embedder, ['lift and drag']);
    const other = new HashedEmbedder({ dimension: 16 });
    expect(() => vectorIndexFor(tenant, other.id, other.dimension)).toThrow(expect.objectContaining({ code: 'EMBEDDER_MISMATCH' }));
    await expect(storeChunks(tenant, other, ['thrust'])).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
    // Vectors of the wrong length into the tenant's index: refused, nothing written.
    const [wrong] = await other.embed(['thrust']);
    expect(() =>
      storeDocument(
        tenant,
        { sourcePath: '/corpus/thrust.txt', title: 'thrust', format: 'txt', sha256: 'x'.repeat(64), bytes: 6, tags: [] },
        [{ ordinal: 0, text: 'thrust', tokenCount: 1, charStart: 0, charEnd: 6, sha256: 'y'.repeat(64) }],
        [wrong!],
        index,
      ),
    ).toThrow(expect.objectContaining({ code: 'EMBEDDER_MISMATCH' }));
    expect(countRows(tenant, 'SELECT id FROM documents')).toBe(1);
    expect(countRows(tenant, 'SELECT id FROM chunks')).toBe(1);
    expect(ftsHits(tenant, '"thrust"')).toBe(0);
    expect(activeVectorIndex(tenant)).toEqual(index);
  });

  it('writes nothing when the embedder returns a vector of the wrong length', async () => {
    const liar: Embedder = { id: 'liar', dimension: 4, embed: async (texts) => texts.map((_, i) => new Float32Array(i === 1 ? 3 : 4).fill(0.5)) };
    const tenant = await openFreshTenant();
    await expect(
      storeChunks(tenant, liar, [
        { documentKey: 'a', ordinal: 0, text: 'alpha' },
        { documentKey: 'a', ordinal: 1, text: 'bravo' },
      ]),
    ).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
    expect(countRows(tenant, 'SELECT id FROM documents')).toBe(0);
    expect(countRows(tenant, 'SELECT id FROM chunks')).toBe(0);
    expect(ftsHits(tenant, '"alpha" OR "bravo"')).toBe(0);
    expect(vectorRows(tenant, activeVectorIndex(tenant)!)).toBe(0);
    // The same embedder with honest vectors: stored (so the failure above was the vector's length).
    const honest: Embedder = { ...liar, embed: async (texts) => texts.map(() => new Float32Array(4).fill(0.5)) };
    const { chunkIds, index } = await storeChunks(tenant, honest, [
      { documentKey: 'a', ordinal: 0, text: 'alpha' },
      { documentKey: 'a', ordinal: 1, text: 'bravo' },
    ]);
    expect(chunkIds).toHaveLength(2);
    expect(vectorRows(tenant, index)).toBe(2);
    expect(ftsHits(tenant, '"alpha" OR "bravo"')).toBe(2);
  });
});
