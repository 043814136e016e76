import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Embedder } from '../../../src-main/embed/embedder.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { bm25TopK, fuseRrf, hybridRank, SEARCH_DEFAULTS, vectorTopK } from '../../../src-main/retrieval/search.js';
import type { RankedHit } from '../../../src-main/retrieval/search.js';
import { closeTenants, HOSTILE_QUERIES, tenantWithChunks, type TenantWithChunks } from '../../helpers/retrieval.js';

afterEach(closeTenants);

const hits = (...ids: number[]): RankedHit[] => ids.map((chunkId, i) => ({ chunkId, rank: i + 1, score: 10 - i }));
const opts = { rrfK: 60, bm25Weight: 1, vectorWeight: 1 };

describe('fuseRrf', () => {
  it('puts first what both lists rank high, above what only one ranks first', () => {
    // 3 is second in both lists: 2/62 = 0.0323 beats 1/61 = 0.0164 for 1 and for 2.
    const fused = fuseRrf(hits(1, 3, 4), hits(2, 3, 5), opts);
    expect(fused.map((f) => f.chunkId)).toEqual([3, 1, 2, 4, 5]);
    expect(fused[0]!.fusedScore).toBeCloseTo(2 / 62, 12);
    expect(fused[0]!.bm25?.rank).toBe(2);
    expect(fused[0]!.vector?.rank).toBe(2);
    expect(fused[1]!.vector).toBeNull();
  });

  it('weights tilt the order towards one list', () => {
    expect(fuseRrf(hits(1), hits(2), { ...opts, bm25Weight: 2 }).map((f) => f.chunkId)).toEqual([1, 2]);
    expect(fuseRrf(hits(1), hits(2), { ...opts, vectorWeight: 2 }).map((f) => f.chunkId)).toEqual([2, 1]);
  });

  it('with the product defaults, a BM25 first place outranks a vector first place, and agreement still wins', () => {
    // 0.6 / 11 < 1 / 11 (the old defaults, rrfK 60 and equal weights, tied them and chunk 2's id won);
    // 3, second in both, scores 1.6 / 12 = 0.133 over 1 / 11 = 0.091 for 1.
    expect(fuseRrf(hits(9), hits(2), SEARCH_DEFAULTS).map((f) => f.chunkId)).toEqual([9, 2]);
    const fused = fuseRrf(hits(1, 3, 4), hits(2, 3, 5), SEARCH_DEFAULTS);
    expect(fused.map((f) => f.chunkId)).toEqual([3, 1, 4, 2, 5]);
    expect(fused[0]!.fusedScore).toBeCloseTo(1.6 / 12, 12);
  });

  it('breaks ties by chunk id, and handles empty lists', () => {
    expect(fuseRrf(hits(9), hits(4), opts).map((f) => f.chunkId)).toEqual([4, 9]);
    expect(fuseRrf([], [], opts)).toEqual([]);
    expect(fuseRrf([], hits(5), opts).map((f) => f.chunkId)).toEqual([5]);
  });
});

// A tiny corpus where the right answer is known: the query says "gust response of a swept wing";
// one passage is about exactly that in other words, the rest share single words with the query.
const CORPUS = [
  'Gust loads on aircraft tails: a statistical survey of atmospheric turbulence data.',
  'Swept wings at high angle of attack: stall characteristics measured in the wind tunnel.',
  'Response of sweptback wings to atmospheric gusts, with flexibility and unsteady lift.',
  'Frequency response of hydraulic servomechanisms used in control systems.',
  'Heat transfer to a flat plate in hypersonic flow.',
  'Rocket nozzle erosion under high chamber pressure.',
];
const QUERY = 'gust response of a swept wing';

describe('hybrid search on a tiny corpus', () => {
  const embedder = new HashedEmbedder();
  let s: TenantWithChunks;
  beforeEach(async () => {
    s = await tenantWithChunks(embedder, CORPUS);
  });

  it('ranks the passage that answers the query first, with provenance and ranks from both lists', async () => {
    const result = await searchKnowledge(s.tenant, QUERY, { k: 6, embedder });
    expect(result.mode).toBe('hybrid');
    const [top, ...rest] = result.passages;
    expect(top).toMatchObject({
      chunkId: s.chunkIds[2],
      documentId: s.documentIds[2],
      title: 'doc-3',
      sourcePath: '/corpus/doc-3.txt',
      ordinal: 0,
      page: null,
      headingPath: [],
      charStart: 0,
      charEnd: CORPUS[2]!.length,
      text: CORPUS[2],
    });
    expect(top!.bm25Rank).not.toBeNull();
    expect(top!.vectorRank).not.toBeNull();
    expect(rest.every((p) => p.score <= top!.score)).toBe(true);
    // Unrelated passages (no shared word) come after those sharing a word with the query.
    const order = result.passages.map((p) => p.documentId);
    expect(order).toContain(s.documentIds[0]);
    expect(order.indexOf(s.documentIds[4]!)).toBeGreaterThan(order.indexOf(s.documentIds[0]!));
  });

  it('returns at most k passages', async () => {
    expect((await searchKnowledge(s.tenant, QUERY, { k: 2, embedder })).passages).toHaveLength(2);
    expect((await searchKnowledge(s.tenant, QUERY, { k: 100, embedder })).passages).toHaveLength(CORPUS.length);
  });

  it('skips feedback on a tiny index (its top passages would be most of it)', async () => {
    const withDefault = await hybridRank(s.tenant, embedder, QUERY);
    expect(await hybridRank(s.tenant, embedder, QUERY, { feedbackPassages: 0 })).toEqual(withDefault);
    expect(await hybridRank(s.tenant, embedder, QUERY, { feedbackMinChunks: 1 })).not.toEqual(withDefault);
  });

  it('returns no passage for a query with nothing to search, and never fails on hostile text', async () => {
    expect((await searchKnowledge(s.tenant, '"*()', { embedder })).passages).toEqual([]);
    for (const q of HOSTILE_QUERIES) {
      const length = q.trim().length;
      const search = searchKnowledge(s.tenant, q, { k: 5, embedder });
      if (length >= 1 && length <= 20_000) {
        const result = await search;
        expect(result.passages.length).toBeLessThanOrEqual(5);
      } else {
        await expect(search).rejects.toMatchObject({ code: 'INPUT_INVALID' });
      }
    }
    // Operator-looking words are searched as words, not dropped.
    expect((await searchKnowledge(s.tenant, 'NEAR( rocket', { k: 1, embedder })).passages[0]?.text).toBe(CORPUS[5]);
  });

  it('the vector list finds a passage the full-text list cannot (a misspelling)', async () => {
    // None of these is a word of the index; their character n-grams still overlap the passage.
    const query = 'sweptbak wingz atmospherik';
    const bm25 = bm25TopK(s.tenant, query, 10).map((h) => h.chunkId);
    const [v] = await embedder.embed([query]);
    const vector = vectorTopK(s.tenant, s.index, v!, 3).map((h) => h.chunkId);
    expect(bm25).toEqual([]);
    expect(vector[0]).toBe(s.chunkIds[2]);
    expect((await searchKnowledge(s.tenant, query, { k: 1, embedder })).passages[0]?.chunkId).toBe(s.chunkIds[2]);
  });

  it('refuses to search with another embedder than the one the tenant was indexed with', async () => {
    const other: Embedder = new HashedEmbedder({ dimension: 64 });
    await expect(searchKnowledge(s.tenant, 'gust', { embedder: other })).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
    await expect(hybridRank(s.tenant, other, 'gust')).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
    // Same dimension, another feature space: refused too.
    const sameSize: Embedder = { id: 'other-384', dimension: embedder.dimension, embed: (t) => embedder.embed(t) };
    await expect(searchKnowledge(s.tenant, 'gust', { embedder: sameSize })).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
  });

  it('checks its counts and its input', async () => {
    for (const k of [0, -1, 1.5, 101]) {
      await expect(searchKnowledge(s.tenant, 'gust', { k, embedder })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    }
    for (const q of ['', '   ', 'x'.repeat(20_001)]) {
      await expect(searchKnowledge(s.tenant, q, { embedder })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    }
    // The longest query accepted still searches: its one known word finds a passage with it.
    const long = await searchKnowledge(s.tenant, `gust ${'x'.repeat(19_995)}`, { k: 1, embedder });
    expect([s.chunkIds[0], s.chunkIds[2]]).toContain(long.passages[0]?.chunkId);
    await expect(hybridRank(s.tenant, embedder, 'gust', { candidates: 5000 })).rejects.toThrow(RangeError);
    await expect(hybridRank(s.tenant, embedder, 'gust', { candidates: 0 })).rejects.toThrow(RangeError);
  });
});

// Filler passages so that the index is large enough for feedback (feedbackMinChunks = 100).
const TOPICS = [
  'boundary layer transition',
  'fatigue of riveted joints',
  'combustion in ramjets',
  'landing gear shimmy',
  'radiation heating of re-entry bodies',
  'shell buckling under pressure',
  'propeller noise',
  'icing of intakes',
];
const FILLER = Array.from({ length: 120 }, (_, i) => `Report ${i}: ${TOPICS[i % TOPICS.length]!}, measured at station ${i % 13} with method ${i % 5}.`);

describe('hybrid search with feedback on', () => {
  it('still ranks the answering passage first, and the same way every time', async () => {
    const embedder = new HashedEmbedder();
    const s = await tenantWithChunks(embedder, [...CORPUS, ...FILLER]);
    const first = (await hybridRank(s.tenant, embedder, QUERY)).fused;
    expect(first[0]?.chunkId).toBe(s.chunkIds[2]);
    expect((await hybridRank(s.tenant, embedder, QUERY)).fused).toEqual(first);
    const noFeedback = (await hybridRank(s.tenant, embedder, QUERY, { feedbackPassages: 0 })).fused;
    expect(noFeedback.slice(0, 5).map((p) => p.fusedScore)).not.toEqual(first.slice(0, 5).map((p) => p.fusedScore)); // feedback did run
    // The user-facing search (product defaults: feedback on) agrees.
    const passages = (await searchKnowledge(s.tenant, QUERY, { k: 5, embedder })).passages;
    expect(passages.map((p) => p.chunkId)).toEqual(first.slice(0, 5).map((f) => f.chunkId));
  });
});

describe('a long query (a search by example)', () => {
  /** 150 passages on 15 subjects; a query of 40 distinct words of subject 0. */
  const subjectWords = (s: number): string[] => Array.from({ length: 45 }, (_, i) => `subj${s}word${i}`);
  const texts = Array.from({ length: 150 }, (_, p) =>
    subjectWords(p % 15)
      .filter((_, i) => (i + p) % 3 !== 0)
      .join(' '),
  );
  const longQuery = subjectWords(0).slice(0, 40).join(' ');
  const shortQuery = subjectWords(0).slice(0, 5).join(' ');
  /** The hash vectors under another id: a vector side that may lead (as the learnt term space's does). */
  class Renamed implements Embedder {
    readonly id = 'renamed-hash';
    readonly dimension = 384;
    readonly #inner = new HashedEmbedder();
    embed(t: string[], signal?: AbortSignal): Promise<Float32Array[]> {
      return this.#inner.embed(t, signal);
    }
  }

  it('keeps its own vector (no Rocchio) and fuses with longQueryVectorWeight; a short one with vectorWeight', async () => {
    const renamed = new Renamed();
    const s = await tenantWithChunks(renamed, texts);
    const long = await hybridRank(s.tenant, renamed, longQuery);
    expect(long.longQuery).toBe(true);
    // The vector list is the query vector's own neighbours: feedback did not move it.
    const [v] = await renamed.embed([longQuery]);
    expect(long.vector.map((h) => h.chunkId)).toEqual(vectorTopK(s.tenant, s.index, v!, SEARCH_DEFAULTS.candidates).map((h) => h.chunkId));
    expect(long.fused).toEqual(fuseRrf(long.bm25, long.vector, { ...SEARCH_DEFAULTS, vectorWeight: SEARCH_DEFAULTS.longQueryVectorWeight }));
    const short = await hybridRank(s.tenant, renamed, shortQuery);
    expect(short.longQuery).toBe(false);
    expect(short.fused).toEqual(fuseRrf(short.bm25, short.vector, SEARCH_DEFAULTS));
  });

  it('with the plain hash vectors (a tenant too small to have learnt its term space) fuses with vectorWeight', async () => {
    const hash = new HashedEmbedder();
    const s = await tenantWithChunks(hash, texts);
    const long = await hybridRank(s.tenant, hash, longQuery);
    expect(long.longQuery).toBe(true);
    expect(long.fused).toEqual(fuseRrf(long.bm25, long.vector, SEARCH_DEFAULTS));
  });
});
