import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deleteDocument, storeDocument, type NewChunk } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { porterStem } from '../../../src-main/text/porter.js';
import { ENGLISH_STOPWORDS } from '../../../src-main/text/stopwords.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { bm25TopK, fts5Bm25TopK, hybridRank, type RankedHit } from '../../../src-main/retrieval/search.js';
import { mergePendingTerms } from '../../../src-main/index/term-index.js';
import { BM25_B, BM25_K1, chunkTerms, decodeSegment, encodeSegment, lengthOf, quantizeLength } from '../../../src-main/index/term-postings.js';
import { rankTerms, termScorer, type TermHit, type WeightedStem } from '../../../src-main/index/term-scorer.js';
import { vectorIndexFor } from '../../../src-main/index/vectors.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import {
  closeTenants,
  countRows,
  dropTermIndex,
  HOSTILE_QUERIES,
  openFreshTenant,
  storeChunks,
  tenantWithChunks,
  type ChunkSpec,
} from '../../helpers/retrieval.js';
import { freshVault, tempDir, TEST_PASSPHRASE } from '../../helpers/vault.js';
import { rng } from '../../../bench/retrieval/generator.js';

afterEach(closeTenants);
afterAll(stopBackgroundReader);

const embedder = new HashedEmbedder({ dimension: 64 });

// ---- an independent reference ----------------------------------------------------------------

/** BM25 constants as the spec states them (not imported from the module under test). */
const K1 = 1.2;
const B = 0.75;

/**
 * An independent tokeniser, equivalent to the module's only on text made of ASCII letters and
 * digits, Latin letters with combining accents, spaces and punctuation (the corpora here; the
 * tests check it agrees with `chunkTerms` on every text they use).
 */
function refStems(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '' && !ENGLISH_STOPWORDS.has(w))
    .map((w) => porterStem(w));
}

interface RefDoc {
  readonly id: number;
  readonly text: string;
}

/** BM25 with FTS5's IDF, k1 1.2, b 0.75, the document length read back from its quantised byte. */
function referenceScores(docs: readonly RefDoc[], query: readonly WeightedStem[]): Map<number, number> {
  const parsed = docs.map((d) => {
    const stems = refStems(d.text);
    const tf = new Map<string, number>();
    for (const s of stems) tf.set(s, (tf.get(s) ?? 0) + 1);
    return { id: d.id, length: stems.length, tf };
  });
  const n = parsed.length;
  const avg = parsed.reduce((s, d) => s + d.length, 0) / n;
  const weights = new Map<string, number>();
  for (const q of query) if (q.weight > 0) weights.set(q.stem, (weights.get(q.stem) ?? 0) + q.weight);
  const scores = new Map<number, number>();
  for (const [stem, weight] of weights) {
    const holding = parsed.filter((d) => d.tf.has(stem));
    const df = holding.length;
    if (df === 0) continue;
    const idf = Math.max(1e-6, Math.log((n - df + 0.5) / (df + 0.5)));
    for (const d of holding) {
      const tf = d.tf.get(stem)!;
      const len = lengthOf(quantizeLength(d.length));
      const s = (weight * idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * len) / avg));
      scores.set(d.id, (scores.get(d.id) ?? 0) + s);
    }
  }
  return scores;
}

/** The reference top k: score descending, then chunk id ascending. */
function referenceTop(scores: ReadonlyMap<number, number>, k: number): TermHit[] {
  return [...scores.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, k)
    .map(([chunkId, score]) => ({ chunkId, score }));
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);

function expectSameHits(actual: readonly TermHit[], expected: readonly TermHit[], tolerance: number, label = ''): void {
  expect(
    actual.map((h) => h.chunkId),
    `${label}: ids`,
  ).toEqual(expected.map((h) => h.chunkId));
  actual.forEach((h, i) => {
    expect(relDiff(h.score, expected[i]!.score), `${label}: score of chunk ${h.chunkId} (${h.score} vs ${expected[i]!.score})`).toBeLessThanOrEqual(tolerance);
  });
}

/** The hits themselves are ordered by (score desc, id asc), with no duplicates. */
function expectOrdered(hits: readonly TermHit[]): void {
  for (let i = 1; i < hits.length; i++) {
    const a = hits[i - 1]!;
    const b = hits[i]!;
    expect(a.score > b.score || (a.score === b.score && a.chunkId < b.chunkId), `hits ${i - 1} and ${i} out of order`).toBe(true);
  }
  expect(new Set(hits.map((h) => h.chunkId)).size).toBe(hits.length);
}

// ---- reading the index -------------------------------------------------------------------------

interface SegmentRow {
  id: number;
  stem: string;
  count: number;
  data: Buffer;
}

const segmentRows = (tenant: TenantHandle): SegmentRow[] =>
  tenant.db.prepare('SELECT id, stem, count, data FROM term_postings ORDER BY stem, id').all() as SegmentRow[];
const pendingIds = (tenant: TenantHandle): number[] => tenant.db.prepare('SELECT chunk_id FROM term_index_pending ORDER BY chunk_id').pluck().all() as number[];
const totals = (tenant: TenantHandle): { chunks: number; tokens: number } =>
  tenant.db.prepare('SELECT chunks, tokens FROM term_index_totals WHERE id = 1').get() as { chunks: number; tokens: number };
const chunkRows = (tenant: TenantHandle): RefDoc[] => tenant.db.prepare('SELECT id, text FROM chunks ORDER BY id').all() as RefDoc[];
const chunkCount = (tenant: TenantHandle): number => countRows(tenant, 'SELECT id FROM chunks');
/** Every chunk id found in any decoded segment. */
const postedIds = (tenant: TenantHandle): Set<number> => new Set(segmentRows(tenant).flatMap((r) => decodeSegment(r.data).ids));

/** Everything the term index holds, byte for byte: what a rolled-back transaction must leave as it was. */
function snapshot(tenant: TenantHandle): unknown {
  return {
    postings: tenant.db.prepare('SELECT id, stem, count, hex(data) AS data FROM term_postings ORDER BY id').all(),
    pending: pendingIds(tenant),
    totals: totals(tenant),
    chunks: chunkCount(tenant),
  };
}

/**
 * The postings hold exactly the non-pending chunks: per stem, each chunk containing it once (at
 * most `maxSegments` segments, each sorted and re-encoding to the same bytes) with its term
 * frequency and quantised length; the totals count those chunks and their tokens; every pending
 * row is a chunk.
 */
function checkIndex(tenant: TenantHandle, maxSegments = 2): void {
  const chunks = chunkRows(tenant);
  const chunkIds = new Set(chunks.map((c) => c.id));
  const pending = new Set(pendingIds(tenant));
  for (const id of pending) expect(chunkIds.has(id), `pending ${id} is not a chunk`).toBe(true);
  const cache = new Map<string, string>();
  const expected: Record<string, Record<number, [number, number]>> = {};
  let merged = 0;
  let tokens = 0;
  for (const c of chunks) {
    if (pending.has(c.id)) continue;
    const t = chunkTerms(c.text, cache);
    merged += 1;
    tokens += t.length;
    for (const [stem, tf] of t.tf) (expected[stem] ??= {})[c.id] = [tf, quantizeLength(t.length)];
  }
  const actual: Record<string, Record<number, [number, number]>> = {};
  const segmentsPerStem = new Map<string, number>();
  const countPerStem = new Map<string, number>();
  for (const row of segmentRows(tenant)) {
    segmentsPerStem.set(row.stem, (segmentsPerStem.get(row.stem) ?? 0) + 1);
    countPerStem.set(row.stem, (countPerStem.get(row.stem) ?? 0) + row.count);
    const p = decodeSegment(row.data);
    expect(row.count, `segment ${row.id} of ${row.stem}: count`).toBe(p.ids.length);
    expect(row.count).toBeGreaterThan(0);
    for (let i = 1; i < p.ids.length; i++) expect(p.ids[i]!, `segment ${row.id} sorted`).toBeGreaterThan(p.ids[i - 1]!);
    expect(encodeSegment(p).equals(row.data), `segment ${row.id} re-encodes`).toBe(true);
    const into = (actual[row.stem] ??= {});
    p.ids.forEach((id, i) => {
      expect(chunkIds.has(id), `posting of ${row.stem} for a missing chunk ${id}`).toBe(true);
      expect(into[id], `chunk ${id} twice in the postings of ${row.stem}`).toBeUndefined();
      into[id] = [p.tfs[i]!, p.lengths[i]!];
    });
  }
  expect(actual).toEqual(expected);
  for (const [stem, n] of segmentsPerStem) expect(n, `segments of ${stem}`).toBeLessThanOrEqual(maxSegments);
  for (const [stem, n] of countPerStem) expect(n, `sum of counts of ${stem}`).toBe(Object.keys(expected[stem] ?? {}).length);
  expect(totals(tenant)).toEqual({ chunks: merged, tokens });
}

// ---- corpora -----------------------------------------------------------------------------------

const VOCAB = [
  'Café',
  'cafe',
  'CAFÉS',
  'turbine',
  'turbines',
  'harbour',
  'meadow',
  'quartz',
  'orbit',
  'running',
  'runs',
  'budget',
  'glacier',
  '2024',
  '42',
  'naïve',
  'brûlée',
  'connection',
  'connected',
  'the',
  'of',
  'and',
  'Zürich',
];

/** 40 texts: varied lengths and repeats, accents and numbers, two exact duplicates (ties), one very long with a big tf, one of stop words only. */
function corpus40(seed = 7): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < 36; i++) {
    const len = 1 + Math.floor(r() * (i % 3 === 0 ? 60 : 12));
    const words: string[] = i % 4 === 0 ? [] : ['Lantern']; // 'lantern' in 27 of 40: its IDF is floored
    for (let j = 0; j < len; j++) words.push(VOCAB[Math.floor(r() * VOCAB.length)]!);
    out.push(words.join(r() < 0.5 ? ' ' : ', ') + '.');
  }
  out.push(out[3]!, out[5]!);
  out.push(Array.from({ length: 300 }, () => 'quartz').join(' '));
  out.push('The, of and.');
  return out;
}

const stem = (word: string): string =>
  porterStem(
    word
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase(),
  );
const q = (...words: (string | [string, number])[]): WeightedStem[] =>
  words.map((w) => (typeof w === 'string' ? { stem: stem(w), weight: 1 } : { stem: stem(w[0]), weight: w[1] }));

/** Queries of the exactness test: single stems, combinations, weights, an absent stem, a floored IDF. */
const QUERIES: readonly WeightedStem[][] = [
  q('cafe'),
  q('turbine'),
  q('quartz'),
  q('2024'),
  q('42', 'naive'),
  q('lantern'),
  q('lantern', 'glacier'),
  q('turbine', 'harbour'),
  q(['running', 2], 'quartz'),
  q('cafe', ['orbit', 3], 'brulee', 'zurich'),
  q('connection', 'budget', 'meadow', 'orbit', 'glacier', 'harbour'),
  [...q('orbit'), { stem: 'zzzabsentstem', weight: 1 }],
  [{ stem: 'zzzabsentstem', weight: 1 }],
  q(...VOCAB.filter((w) => !ENGLISH_STOPWORDS.has(w.toLowerCase())), 'lantern'),
];

function texts(n: number, tag: string, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 2 + Math.floor(r() * 10);
    const words = Array.from({ length: len }, () => VOCAB[Math.floor(r() * VOCAB.length)]!);
    return `${tag}${i} ${words.join(' ')}`; // unique text
  });
}

/** One-chunk documents keyed by `prefix`, so that batches stored one after another do not replace each other. */
const asDocs = (list: readonly string[], prefix: string): ChunkSpec[] => list.map((text, i) => ({ documentKey: `${prefix}-${i}`, ordinal: 0, text }));

// ---- tests -------------------------------------------------------------------------------------

describe('rankTerms: exact BM25', () => {
  it('uses the stated constants, and the independent tokeniser agrees with chunkTerms on the corpus', () => {
    expect(BM25_K1).toBe(K1);
    expect(BM25_B).toBe(B);
    const cache = new Map<string, string>();
    for (const text of [...corpus40(), ...texts(30, 'item', 3)]) {
      const ref = refStems(text);
      const tf = new Map<string, number>();
      for (const s of ref) tf.set(s, (tf.get(s) ?? 0) + 1);
      const got = chunkTerms(text, cache);
      expect(got.length, text).toBe(ref.length);
      expect(got.tf, text).toEqual(tf);
    }
    // Accents fold, numbers are words, stop words are out, plurals and -ing stem.
    expect(chunkTerms('Café CAFÉS cafe, the 2024 running runs', new Map())).toEqual({
      length: 6,
      tf: new Map([
        ['cafe', 3],
        ['2024', 1],
        ['run', 2],
      ]),
    });
  });

  it('equals a reference BM25 over 40 texts, pending and merged, with the right order and cut', async () => {
    const corpus = corpus40();
    expect(corpus).toHaveLength(40);
    const { tenant, chunkIds } = await tenantWithChunks(embedder, corpus);
    const docs: RefDoc[] = corpus.map((text, i) => ({ id: chunkIds[i]!, text }));

    // The test exercises what it claims: an IDF at its floor, ties between equal texts, a big tf.
    const lanternDf = corpus.filter((t) => refStems(t).includes('lantern')).length;
    expect(lanternDf).toBeGreaterThan(20);
    expect(Math.log((40 - lanternDf + 0.5) / (lanternDf + 0.5))).toBeLessThan(0);

    for (const state of ['pending', 'merged'] as const) {
      if (state === 'merged') expect(mergePendingTerms(tenant)).toBe(40);
      expect(pendingIds(tenant)).toHaveLength(state === 'pending' ? 40 : 0);
      for (const query of QUERIES) {
        const label = `${state} ${JSON.stringify(query)}`;
        const ref = referenceScores(docs, query);
        const all = referenceTop(ref, Infinity);
        const full = rankTerms(tenant, query, 1000);
        expect(full.totalChunks).toBe(40);
        expectOrdered(full.hits);
        expectSameHits(full.hits, all, 1e-9, label);
        // Every cut: the top k of the full order, whatever k (ties at the cut go to the lower id).
        for (let k = 0; k <= all.length + 1; k++) expectSameHits(rankTerms(tenant, query, k).hits, all.slice(0, k), 1e-9, `${label} k=${k}`);
      }
      // The duplicates tie, and the lower chunk id comes first.
      const dup = rankTerms(tenant, q('cafe', 'turbine', 'harbour', 'orbit', 'meadow', 'glacier', 'budget', 'quartz', 'lantern', 'running'), 1000).hits;
      const first = dup.findIndex((h) => h.chunkId === chunkIds[3]);
      const second = dup.findIndex((h) => h.chunkId === chunkIds[36]);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(dup[first]!.score).toBe(dup[second]!.score);
      expect(first).toBeLessThan(second);
    }
  });

  it('counts a weight-2 stem twice, sums repeated stems, ignores zero weights and absent stems', async () => {
    const corpus = corpus40(11);
    const { tenant, chunkIds } = await tenantWithChunks(embedder, corpus);
    mergePendingTerms(tenant);
    const docs: RefDoc[] = corpus.map((text, i) => ({ id: chunkIds[i]!, text }));
    const two = rankTerms(tenant, q(['cafe', 2], 'turbine'), 1000).hits;
    expectSameHits(rankTerms(tenant, q('cafe', 'cafe', 'turbine'), 1000).hits, two, 1e-15, 'repeated');
    expectSameHits(two, referenceTop(referenceScores(docs, q(['cafe', 2], 'turbine')), 1000), 1e-9, 'weight 2');
    // Doubling a lone stem doubles every score.
    const one = rankTerms(tenant, q('cafe'), 1000).hits;
    const doubled = rankTerms(tenant, q(['cafe', 2]), 1000).hits;
    expectSameHits(
      doubled,
      one.map((h) => ({ chunkId: h.chunkId, score: 2 * h.score })),
      1e-15,
      'doubled',
    );
    // Weight 2 is not weight 1 (the test could tell them apart).
    expect(two.map((h) => h.score)).not.toEqual(rankTerms(tenant, q('cafe', 'turbine'), 1000).hits.map((h) => h.score));
    // Zero weight and absent stems add nothing.
    expect(rankTerms(tenant, q(['cafe', 0]), 10).hits).toEqual([]);
    expect(rankTerms(tenant, [...q(['cafe', 0]), ...q('turbine')], 1000).hits).toEqual(rankTerms(tenant, q('turbine'), 1000).hits);
    expect(rankTerms(tenant, [{ stem: 'nosuchstem', weight: 1 }, ...q('turbine')], 1000).hits).toEqual(rankTerms(tenant, q('turbine'), 1000).hits);
    expect(rankTerms(tenant, [{ stem: 'nosuchstem', weight: 1 }], 10)).toEqual({ hits: [], totalChunks: 40 });
    expect(rankTerms(tenant, [], 10)).toEqual({ hits: [], totalChunks: 40 });
  });

  it('a scorer sums its passes: a second add counts on top of the first, as one rankTerms of the summed weights', async () => {
    const corpus = corpus40(13);
    const { tenant, chunkIds } = await tenantWithChunks(embedder, corpus);
    const docs: RefDoc[] = corpus.map((text, i) => ({ id: chunkIds[i]!, text }));
    for (const state of ['pending', 'merged']) {
      if (state === 'merged') mergePendingTerms(tenant);
      const scorer = termScorer(tenant);
      scorer.add(q('cafe'));
      expect(scorer.totalChunks).toBe(40); // read with the postings, in the pass's snapshot
      expect(scorer.top(1000)).toEqual(rankTerms(tenant, q('cafe'), 1000).hits);
      scorer.add(q('cafe', 'turbine'));
      const summed = q(['cafe', 2], 'turbine');
      expectSameHits(scorer.top(1000), rankTerms(tenant, summed, 1000).hits, 1e-12, `${state} scorer`);
      expectSameHits(scorer.top(7), referenceTop(referenceScores(docs, summed), 7), 1e-9, `${state} scorer vs reference`);
    }
  });

  it('an empty tenant ranks nothing', async () => {
    const tenant = await openFreshTenant();
    expect(rankTerms(tenant, q('cafe'), 10)).toEqual({ hits: [], totalChunks: 0 });
    expect(bm25TopK(tenant, 'cafe', 10)).toEqual([]);
    expect(mergePendingTerms(tenant)).toBe(0);
  });

  it('scores chunk ids far apart (the sparse accumulator) as exactly', async () => {
    const corpus = corpus40(5).slice(0, 20);
    const { tenant, chunkIds, documentIds } = await tenantWithChunks(embedder, corpus);
    // Two chunks with ids beyond the dense span (4M) from the others, written directly.
    const far = [
      { id: 5_000_000, text: 'Café turbine turbine quartz 2024 lantern' },
      { id: 2 ** 40, text: 'harbour running runs glacier café' },
    ];
    const insert = tenant.db.prepare(
      'INSERT INTO chunks (id, document_id, ordinal, text, token_count, char_start, char_end, sha256) VALUES (?, ?, ?, ?, ?, 0, 0, ?)',
    );
    far.forEach((c, i) => insert.run(c.id, documentIds[0]!, 1000 + i, c.text, 6, crypto.createHash('sha256').update(c.text).digest('hex')));
    const docs: RefDoc[] = [...corpus.map((text, i) => ({ id: chunkIds[i]!, text })), ...far];
    for (const state of ['pending', 'merged']) {
      if (state === 'merged') expect(mergePendingTerms(tenant)).toBe(22);
      for (const query of QUERIES) {
        const hits = rankTerms(tenant, query, 1000);
        expect(hits.totalChunks).toBe(22);
        expectSameHits(hits.hits, referenceTop(referenceScores(docs, query), 1000), 1e-9, `${state} ${JSON.stringify(query)}`);
      }
      expect(rankTerms(tenant, q('harbour'), 1000).hits.map((h) => h.chunkId)).toContain(2 ** 40);
      expect(rankTerms(tenant, q('turbine'), 1000).hits.map((h) => h.chunkId)).toContain(5_000_000);
    }
    checkIndex(tenant);
  });
});

describe('pending and merged chunks', () => {
  it('every stored chunk goes pending, and the merge changes no result', async () => {
    const corpus = corpus40(21);
    const { tenant, chunkIds } = await tenantWithChunks(embedder, corpus);
    expect(pendingIds(tenant)).toEqual([...chunkIds].sort((a, b) => a - b));
    expect(countRows(tenant, 'SELECT id FROM term_postings')).toBe(0);
    expect(totals(tenant)).toEqual({ chunks: 0, tokens: 0 });
    const before = QUERIES.map((query) => rankTerms(tenant, query, 25));
    expect(before.some((r) => r.hits.length > 0)).toBe(true);

    expect(mergePendingTerms(tenant)).toBe(40);
    expect(pendingIds(tenant)).toEqual([]);
    expect(mergePendingTerms(tenant)).toBe(0);
    checkIndex(tenant);
    const cache = new Map<string, string>();
    expect(totals(tenant)).toEqual({ chunks: 40, tokens: corpus.reduce((n, t) => n + chunkTerms(t, cache).length, 0) });
    // The stored length byte is the quantised token count, which the pending path uses too.
    for (const row of segmentRows(tenant)) {
      const p = decodeSegment(row.data);
      p.ids.forEach((id, i) => expect(p.lengths[i]).toBe(quantizeLength(chunkTerms(corpus[chunkIds.indexOf(id)]!, cache).length)));
    }
    QUERIES.forEach((query, i) => {
      const after = rankTerms(tenant, query, 25);
      expect(after.totalChunks).toBe(before[i]!.totalChunks);
      expectSameHits(after.hits, before[i]!.hits, 1e-12, JSON.stringify(query));
    });
  });

  it('a tenant partly merged, partly pending, ranks as when all is merged', async () => {
    const tenant = await openFreshTenant();
    await storeChunks(tenant, embedder, asDocs(texts(25, 'first', 1), 'first'));
    mergePendingTerms(tenant);
    await storeChunks(tenant, embedder, asDocs(texts(15, 'second', 2), 'second'));
    expect(pendingIds(tenant)).toHaveLength(15);
    checkIndex(tenant);
    const mixed = QUERIES.map((query) => rankTerms(tenant, query, 30));
    mergePendingTerms(tenant);
    checkIndex(tenant);
    QUERIES.forEach((query, i) => {
      const merged = rankTerms(tenant, query, 30);
      expect(merged.totalChunks).toBe(40);
      expect(mixed[i]!.totalChunks).toBe(40);
      expectSameHits(merged.hits, mixed[i]!.hits, 1e-12, JSON.stringify(query));
    });
  });
});

describe('segments', () => {
  it('stay at most two per stem over many small merges, and hold exactly the chunks of each stem', async () => {
    const tenant = await openFreshTenant();
    let seenTwo = false;
    let seenCollapse = false;
    const sizes = [30, 3, 3, 3, 3, 20, 2, 2, 5, 1, 1, 8];
    for (const [b, size] of sizes.entries()) {
      // Every text has 'orbit', so its stem sees every branch of the merge policy.
      await storeChunks(
        tenant,
        embedder,
        asDocs(
          texts(size, `batch${b}x`, 100 + b).map((t) => `${t} orbit`),
          `batch${b}`,
        ),
      );
      expect(pendingIds(tenant)).toHaveLength(size);
      const before = segmentRows(tenant).filter((r) => r.stem === 'orbit').length;
      expect(mergePendingTerms(tenant)).toBe(size);
      expect(pendingIds(tenant)).toEqual([]);
      checkIndex(tenant, 2);
      const after = segmentRows(tenant).filter((r) => r.stem === 'orbit').length;
      if (after === 2) seenTwo = true;
      if (before === 2 && after === 1) seenCollapse = true;
      expect(totals(tenant).chunks).toBe(chunkCount(tenant));
    }
    // Both branches happened: a small segment beside the large one, and all merged into one.
    expect(seenTwo).toBe(true);
    expect(seenCollapse).toBe(true);
    expect(
      segmentRows(tenant)
        .filter((r) => r.stem === 'orbit')
        .reduce((n, r) => n + r.count, 0),
    ).toBe(chunkCount(tenant));
  });
});

describe('deletes', () => {
  /** Each hit as (text, score): comparable across tenants whose chunk ids differ. */
  function byText(tenant: TenantHandle, hits: readonly TermHit[]): [string, number][] {
    const text = tenant.db.prepare('SELECT text FROM chunks WHERE id = ?').pluck();
    return hits.map((h) => [text.get(h.chunkId) as string, h.score]);
  }

  async function expectSameAsFresh(tenant: TenantHandle, label: string): Promise<void> {
    const remaining = chunkRows(tenant).map((c) => c.text); // in chunk id order: ties break the same way
    const fresh = await tenantWithChunks(embedder, remaining);
    mergePendingTerms(fresh.tenant);
    for (const query of QUERIES) {
      const got = rankTerms(tenant, query, 1000);
      const want = rankTerms(fresh.tenant, query, 1000);
      expect(got.totalChunks).toBe(want.totalChunks);
      const a = byText(tenant, got.hits);
      const b = byText(fresh.tenant, want.hits);
      expect(
        a.map((x) => x[0]),
        `${label} ${JSON.stringify(query)}`,
      ).toEqual(b.map((x) => x[0]));
      a.forEach((x, i) => expect(relDiff(x[1], b[i]![1]), `${label}: ${x[0]}`).toBeLessThanOrEqual(1e-12));
    }
  }

  /**
   * Deleted chunks are in no segment, not pending, never ranked. SQLite reuses the highest ids of
   * deleted rows: an id now held by a new chunk is checked by checkIndex instead (its postings must
   * be the new text's).
   */
  function expectGone(tenant: TenantHandle, deleted: readonly number[]): void {
    const live = new Set(chunkRows(tenant).map((c) => c.id));
    const ids = deleted.filter((id) => !live.has(id));
    const posted = postedIds(tenant);
    const pending = new Set(pendingIds(tenant));
    for (const id of ids) {
      expect(posted.has(id), `deleted chunk ${id} still in the postings`).toBe(false);
      expect(pending.has(id), `deleted chunk ${id} still pending`).toBe(false);
    }
    const gone = new Set(ids);
    const everyStem = [...new Set(segmentRows(tenant).map((r) => r.stem))].map((s) => ({ stem: s, weight: 1 }));
    for (const query of [...QUERIES, everyStem]) {
      for (const h of rankTerms(tenant, query, 10_000).hits) expect(gone.has(h.chunkId), `rankTerms returned deleted chunk ${h.chunkId}`).toBe(false);
    }
  }

  const specs = (): ChunkSpec[] =>
    ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'].flatMap((key, d) => texts(3 + d, `${key}c`, 40 + d).map((text, ordinal) => ({ documentKey: key, ordinal, text })));

  it('deleteDocument takes a merged document out of the postings and totals; the rest scores as a fresh tenant', async () => {
    const all = specs();
    const { tenant, chunkIds, documents } = await tenantWithChunks(embedder, all);
    mergePendingTerms(tenant);
    // A second, small merge: common stems get a second segment, so deletes reach both segments.
    const extraTexts = texts(3, 'extra', 47).map((t) => `${t} orbit meadow glacier turbine`);
    const extra = await storeChunks(
      tenant,
      embedder,
      extraTexts.map((text, ordinal) => ({ documentKey: 'extra', ordinal, text })),
    );
    mergePendingTerms(tenant);
    checkIndex(tenant);
    const before = totals(tenant);
    const cache = new Map<string, string>();
    const victims = [
      ...all.flatMap((s, i) => (s.documentKey === 'd1' || s.documentKey === 'd4' || s.documentKey === 'd6' ? [{ id: chunkIds[i]!, text: s.text }] : [])),
      ...extraTexts.map((text, i) => ({ id: extra.chunkIds[i]!, text })),
    ];
    const posted = postedIds(tenant);
    expect(victims.every((v) => posted.has(v.id))).toBe(true);
    // Some stem has two segments, both holding victims (the test reaches that case).
    const victimIds = new Set(victims.map((v) => v.id));
    const byStem = new Map<string, SegmentRow[]>();
    for (const r of segmentRows(tenant)) byStem.set(r.stem, [...(byStem.get(r.stem) ?? []), r]);
    const twoHit = [...byStem.values()].filter((rows) => rows.length === 2 && rows.every((r) => decodeSegment(r.data).ids.some((id) => victimIds.has(id))));
    expect(twoHit.length).toBeGreaterThan(0);

    // The first document (lowest ids), one in the middle, the last of the first batch, and the small second batch.
    for (const key of ['d1', 'd4', 'd6']) deleteDocument(tenant, documents.get(key)!);
    deleteDocument(tenant, extra.documents.get('extra')!);
    checkIndex(tenant);
    expectGone(
      tenant,
      victims.map((v) => v.id),
    );
    expect(totals(tenant)).toEqual({
      chunks: before.chunks - victims.length,
      tokens: before.tokens - victims.reduce((n, v) => n + chunkTerms(v.text, cache).length, 0),
    });
    expect(totals(tenant).chunks).toBe(chunkCount(tenant));
    // Stems only the deleted texts had (their unique tags) have no segment left.
    const tags = victims.map((v) => refStems(v.text)[0]!);
    expect(segmentRows(tenant).filter((r) => tags.includes(r.stem))).toEqual([]);
    await expectSameAsFresh(tenant, 'after deleteDocument');
  });

  it('replacing a document (storeDocument, same path) swaps its postings in that one transaction', async () => {
    const { tenant, chunkIds, documents } = await tenantWithChunks(embedder, specs());
    mergePendingTerms(tenant);
    const oldIds = chunkIds.filter((_, i) => specs()[i]!.documentKey === 'd3');
    const replacement = texts(4, 'd3new', 77).map((text, ordinal) => ({ documentKey: 'd3', ordinal, text }));
    const added = await storeChunks(tenant, embedder, replacement);
    expect(added.documents.get('d3')).not.toBe(documents.get('d3'));
    // No merge ran: the old chunks left the postings with the store, the new ones are pending.
    expect(pendingIds(tenant)).toEqual([...added.chunkIds].sort((a, b) => a - b));
    checkIndex(tenant);
    expectGone(tenant, oldIds);
    await expectSameAsFresh(tenant, 'after replace (pending)');
    mergePendingTerms(tenant);
    checkIndex(tenant);
    await expectSameAsFresh(tenant, 'after replace (merged)');

    // Replacing the newest document: SQLite hands its chunk ids to the new chunks. The postings
    // must hold the new texts under those ids, never the old ones.
    const newest = chunkRows(tenant).slice(-3);
    const reused = await storeChunks(
      tenant,
      embedder,
      texts(2, 'reuse', 78).map((text, ordinal) => ({ documentKey: 'd3', ordinal, text })),
    );
    expect(reused.chunkIds.some((id) => newest.some((c) => c.id === id))).toBe(true);
    checkIndex(tenant);
    await expectSameAsFresh(tenant, 'after id reuse (pending)');
    mergePendingTerms(tenant);
    checkIndex(tenant);
    await expectSameAsFresh(tenant, 'after id reuse (merged)');
    const oldStems = newest.map((c) => ({ stem: refStems(c.text)[0]!, weight: 1 })); // the unique tag of each old text
    expect(rankTerms(tenant, oldStems, 100).hits).toEqual([]);
  });

  it('deletes and replaces documents whose chunks are still pending', async () => {
    const { tenant, documents } = await tenantWithChunks(embedder, specs());
    mergePendingTerms(tenant);
    const merged = snapshot(tenant) as { postings: unknown; totals: unknown };

    // A late document, never merged: replacing it drops its pending rows (no postings to touch).
    const late = await storeChunks(
      tenant,
      embedder,
      texts(3, 'late', 9).map((text, ordinal) => ({ documentKey: 'late', ordinal, text })),
    );
    expect(pendingIds(tenant)).toEqual(late.chunkIds);
    const again = await storeChunks(
      tenant,
      embedder,
      texts(2, 'later', 10).map((text, ordinal) => ({ documentKey: 'late', ordinal, text })),
    );
    expect(pendingIds(tenant)).toEqual(again.chunkIds);
    expect((snapshot(tenant) as { postings: unknown }).postings).toEqual(merged.postings);
    expect(totals(tenant)).toEqual(merged.totals);
    checkIndex(tenant);
    expectGone(tenant, late.chunkIds);
    const lateTags = texts(3, 'late', 9).map((t) => ({ stem: refStems(t)[0]!, weight: 1 }));
    expect(rankTerms(tenant, lateTags, 100).hits).toEqual([]);
    expect(
      rankTerms(
        tenant,
        texts(2, 'later', 10).map((t) => ({ stem: refStems(t)[0]!, weight: 1 })),
        100,
      )
        .hits.map((h) => h.chunkId)
        .sort(),
    ).toEqual([...again.chunkIds].sort());

    // deleteDocument of a pending document: gone, the totals never counted it.
    deleteDocument(tenant, again.documents.get('late')!);
    expect(pendingIds(tenant)).toEqual([]);
    expect(totals(tenant)).toEqual(merged.totals);
    checkIndex(tenant);
    expectGone(tenant, [...late.chunkIds, ...again.chunkIds]);

    // A pending document deleted while another is pending: the delete merges the other.
    const keep = await storeChunks(
      tenant,
      embedder,
      texts(3, 'keep', 12).map((text, ordinal) => ({ documentKey: 'keep', ordinal, text })),
    );
    const drop = await storeChunks(
      tenant,
      embedder,
      texts(3, 'drop', 13).map((text, ordinal) => ({ documentKey: 'drop', ordinal, text })),
    );
    deleteDocument(tenant, drop.documents.get('drop')!);
    expect(pendingIds(tenant)).toEqual([]);
    checkIndex(tenant);
    expectGone(tenant, drop.chunkIds);
    expect(keep.chunkIds.every((id) => postedIds(tenant).has(id))).toBe(true);
    deleteDocument(tenant, documents.get('d1')!);
    checkIndex(tenant);
    await expectSameAsFresh(tenant, 'after pending deletes');
  });
});

describe('transactions', () => {
  const chunk = (text: string, ordinal: number): NewChunk => ({
    ordinal,
    text,
    tokenCount: text.split(/\s+/).length,
    charStart: 0,
    charEnd: text.length,
    sha256: crypto.createHash('sha256').update(text).digest('hex'),
  });
  const doc = (key: string): Parameters<typeof storeDocument>[1] => ({
    sourcePath: `/corpus/${key}.txt`,
    title: key,
    format: 'txt',
    sha256: key.padEnd(64, '0'),
    bytes: 1,
    tags: [],
  });

  it('a store that throws after inserting its chunks leaves no pending rows and no postings', async () => {
    const { tenant } = await tenantWithChunks(embedder, texts(12, 'base', 31));
    mergePendingTerms(tenant);
    await storeChunks(tenant, embedder, asDocs(texts(3, 'waiting', 32), 'waiting')); // some pending too
    const index = vectorIndexFor(tenant, embedder.id, embedder.dimension);
    const before = snapshot(tenant);
    const newTexts = ['turbine quartz rollback', 'café meadow rollback'];

    // storeDocument itself throws after the chunk inserts (a vector of the wrong size).
    expect(() => storeDocument(tenant, doc('bad'), newTexts.map(chunk), [new Float32Array(64), new Float32Array(3)], index)).toThrow();
    expect(snapshot(tenant)).toEqual(before);

    // An outer transaction that stored a document (its chunks went pending) and then threw.
    const vectors = await embedder.embed(newTexts);
    let pendingInside = 0;
    expect(() =>
      tenant.db.transaction(() => {
        storeDocument(tenant, doc('rolled-back'), newTexts.map(chunk), vectors, index);
        pendingInside = pendingIds(tenant).length;
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    expect(pendingInside).toBe((before as { pending: number[] }).pending.length + 2);
    expect(snapshot(tenant)).toEqual(before);

    // Even a merge inside the rolled-back transaction leaves nothing behind.
    expect(() =>
      tenant.db.transaction(() => {
        storeDocument(tenant, doc('merged-then-rolled-back'), newTexts.map(chunk), vectors, index);
        expect(mergePendingTerms(tenant)).toBe(5);
        expect(pendingIds(tenant)).toEqual([]);
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    expect(snapshot(tenant)).toEqual(before);
    checkIndex(tenant);
    expect(rankTerms(tenant, q('rollback'), 10).hits).toEqual([]);
  });

  it('a replace rolled back restores the removed postings byte for byte', async () => {
    const { tenant } = await tenantWithChunks(embedder, specs2());
    mergePendingTerms(tenant);
    const index = vectorIndexFor(tenant, embedder.id, embedder.dimension);
    const before = snapshot(tenant);
    const ranking = rankTerms(tenant, q('turbine', 'cafe'), 100);
    const vectors = await embedder.embed(['replacement text']);
    expect(() =>
      tenant.db.transaction(() => {
        storeDocument(tenant, { ...doc('d1'), sourcePath: '/corpus/d1.txt' }, [chunk('replacement text', 0)], vectors, index);
        expect(snapshot(tenant)).not.toEqual(before); // the postings did change inside
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    expect(snapshot(tenant)).toEqual(before);
    expect(rankTerms(tenant, q('turbine', 'cafe'), 100)).toEqual(ranking);
    checkIndex(tenant);
  });

  const specs2 = (): ChunkSpec[] =>
    ['d1', 'd2', 'd3'].flatMap((key, d) => texts(4, `${key}c`, 60 + d).map((text, ordinal) => ({ documentKey: key, ordinal, text: `${text} turbine café` })));
});

describe('tenant migration 6: the term index', () => {
  it('an older tenant gets the index with every chunk pending (same rankings), and the next merge empties the list', async () => {
    const dir = tempDir('bulkhead-term-index-');
    try {
      const vault = await freshVault(dir);
      const { id } = vault.createTenant('Older tenant');
      let tenant = vault.openSession().open(id);
      await storeChunks(tenant, embedder, asDocs(corpus40(41), 'old'));
      mergePendingTerms(tenant);
      await storeChunks(tenant, embedder, asDocs(texts(10, 'pend', 42), 'pend')); // some left pending
      const before = QUERIES.map((query) => rankTerms(tenant, query, 30));
      const version = Number(tenant.db.pragma('user_version', { simple: true }));
      expect(version).toBeGreaterThanOrEqual(6);

      dropTermIndex(tenant);
      tenant.db.pragma('user_version = 5');
      vault.lock();

      await vault.unlock(TEST_PASSPHRASE);
      tenant = vault.openSession().open(id);
      expect(Number(tenant.db.pragma('user_version', { simple: true }))).toBe(version);
      expect(countRows(tenant, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN ('chunks_terms_pending', 'chunks_terms_unpend')")).toBe(2);
      // A frozen migration holds DDL and SQL only: the postings' format is the live code's.
      expect(pendingIds(tenant)).toHaveLength(50);
      const pendingRanks = QUERIES.map((query) => rankTerms(tenant, query, 30));
      expect(mergePendingTerms(tenant)).toBe(50);
      expect(pendingIds(tenant)).toEqual([]);
      expect(totals(tenant).chunks).toBe(50);
      checkIndex(tenant);
      QUERIES.forEach((query, i) => {
        const after = rankTerms(tenant, query, 30);
        expect(after.totalChunks).toBe(50);
        expectSameHits(after.hits, before[i]!.hits, 1e-12, JSON.stringify(query));
        expectSameHits(pendingRanks[i]!.hits, before[i]!.hits, 1e-12, JSON.stringify(query));
      });
      // The trigger is back: a new chunk goes pending.
      const added = await storeChunks(tenant, embedder, asDocs(['a late turbine'], 'new'));
      expect(pendingIds(tenant)).toEqual(added.chunkIds);
      vault.lock();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('search routing', () => {
  const CJK = '東京大学の研究';
  const corpus = (): string[] => [
    ...texts(20, 'w', 51),
    CJK,
    'The history of the harbour and the turbine.',
    'Of mice and men, and of the sea.',
    'Turbines in the harbour of Zürich.',
  ];
  const asRanked = (hits: readonly TermHit[]): RankedHit[] => hits.map((h, i) => ({ chunkId: h.chunkId, rank: i + 1, score: h.score }));

  it('CJK and stop-word-only queries go to FTS5, word queries to the term index', async () => {
    const texts_ = corpus();
    const { tenant, chunkIds } = await tenantWithChunks(embedder, texts_);
    for (const state of ['pending', 'merged']) {
      if (state === 'merged') mergePendingTerms(tenant);
      const cjkId = chunkIds[texts_.indexOf(CJK)]!;
      // The term index holds no stem for CJK text: only FTS5 can find it.
      expect(chunkTerms('東京', new Map()).tf.size).toBe(0);
      const tokyo = bm25TopK(tenant, '東京', 10);
      expect(tokyo.map((h) => h.chunkId)).toEqual([cjkId]);
      expect(tokyo).toEqual(fts5Bm25TopK(tenant, '東京', 10));

      const stops = bm25TopK(tenant, 'the of', 50);
      expect(stops.length).toBeGreaterThanOrEqual(3);
      expect(stops).toEqual(fts5Bm25TopK(tenant, 'the of', 50));
      expect(bm25TopK(tenant, 'THE', 50)).toEqual(fts5Bm25TopK(tenant, 'the', 50));

      // A word next to CJK: FTS5 too (a phrase is not a word of the index).
      const mixed = bm25TopK(tenant, 'turbine 東京', 50);
      expect(mixed).toEqual(fts5Bm25TopK(tenant, 'turbine 東京', 50));
      expect(mixed.map((h) => h.chunkId)).toContain(cjkId);

      // Word queries: the term index, exactly.
      for (const query of ['turbine harbour', 'Café 2024', 'running', 'zurich', 'the turbine', 'turbine turbine', 'Turbines!', 'nosuchword']) {
        const stems = [...new Set(refStems(query))].map((s) => ({ stem: s, weight: 1 }));
        expect(stems.length).toBeGreaterThan(0);
        const got = bm25TopK(tenant, query, 50);
        expect(got, `${state} ${query}`).toEqual(asRanked(rankTerms(tenant, stems, 50).hits));
        // It matches the chunks FTS5 matches (the scores differ: lengths count differently).
        expect(new Set(got.map((h) => h.chunkId)), `${state} ${query} matches`).toEqual(new Set(fts5Bm25TopK(tenant, query, 1000).map((h) => h.chunkId)));
      }
      expect(bm25TopK(tenant, 'turbine', 3)).toHaveLength(3);
      expect(bm25TopK(tenant, 'turbine harbour', 50)).not.toEqual(fts5Bm25TopK(tenant, 'turbine harbour', 50)); // a different ranker indeed

      // The hybrid ranking's full-text side (no embedder, no feedback) is the term index too.
      const hybrid = await hybridRank(tenant, null, 'turbine harbour', { feedbackPassages: 0 });
      expect(hybrid.bm25).toEqual(asRanked(rankTerms(tenant, q('turbine', 'harbour'), 200).hits));
      expect((await hybridRank(tenant, null, '東京', { feedbackPassages: 0 })).bm25.map((h) => h.chunkId)).toEqual([cjkId]);

      for (const hostile of HOSTILE_QUERIES) expect(() => bm25TopK(tenant, hostile, 10), JSON.stringify(hostile).slice(0, 40)).not.toThrow();
      expect(bm25TopK(tenant, '', 10)).toEqual([]);
      expect(bm25TopK(tenant, '?!', 10)).toEqual([]);
    }
  });
});

describe('ingestPaths', () => {
  it('merges the pending chunks at the end of a run, and after a re-ingest', async () => {
    const dir = tempDir('bulkhead-term-ingest-');
    try {
      const tenant = await openFreshTenant();
      const files = texts(4, 'file', 61).map((t, i) => {
        const p = path.join(dir, `f${i}.txt`);
        fs.writeFileSync(p, `${t}\n\nSecond paragraph about the turbine ${i}.`);
        return p;
      });
      const first = await ingestPaths(tenant, [dir], { embedder });
      expect(first.added).toBe(4);
      expect(chunkCount(tenant)).toBeGreaterThan(0);
      expect(pendingIds(tenant)).toEqual([]);
      checkIndex(tenant);
      const oldIds = chunkRows(tenant).map((c) => c.id);

      fs.writeFileSync(files[0]!, 'Entirely new text on a glacier.');
      const second = await ingestPaths(tenant, [dir], { embedder });
      expect(second.replaced).toBe(1);
      expect(pendingIds(tenant)).toEqual([]);
      checkIndex(tenant);
      expect(totals(tenant).chunks).toBe(chunkCount(tenant));
      const gone = oldIds.filter((id) => !chunkRows(tenant).some((c) => c.id === id));
      expect(gone.length).toBeGreaterThan(0);
      const posted = postedIds(tenant);
      for (const id of gone) expect(posted.has(id)).toBe(false);
      expect(rankTerms(tenant, q('glacier'), 10).hits.map((h) => h.chunkId)).toContain(chunkRows(tenant).find((c) => c.text.includes('Entirely'))!.id);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('segment encoding', () => {
  it('round-trips large ids, big term frequencies and every length byte', () => {
    const ids = [1, 2, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40, 2 ** 40 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER];
    const tfs = ids.map((_, i) => [1, 127, 128, 300, 16_384, 65_535][i % 6]!);
    const lengths = ids.map((_, i) => [0, 1, 127, 128, 200, 255][i % 6]!);
    const data = encodeSegment({ ids, tfs, lengths });
    expect(decodeSegment(data)).toEqual({ ids, tfs, lengths });
    expect(decodeSegment(encodeSegment({ ids: [], tfs: [], lengths: [] }))).toEqual({ ids: [], tfs: [], lengths: [] });
    expect(encodeSegment({ ids: [], tfs: [], lengths: [] }).length).toBe(0);
    // Small deltas stay small: one byte of id delta, one of tf, one of length each.
    expect(encodeSegment({ ids: [1, 2, 3], tfs: [1, 1, 1], lengths: [9, 9, 9] }).length).toBe(9);
    // A long random run.
    const r = rng(99);
    const many = { ids: [] as number[], tfs: [] as number[], lengths: [] as number[] };
    let id = 0;
    for (let i = 0; i < 5000; i++) {
      id += 1 + Math.floor(r() * (i % 50 === 0 ? 2 ** 35 : 300));
      many.ids.push(id);
      many.tfs.push(1 + Math.floor(r() * (i % 7 === 0 ? 65_535 : 5)));
      many.lengths.push(Math.floor(r() * 256));
    }
    expect(decodeSegment(encodeSegment(many))).toEqual(many);
    // Term frequencies above 16 bits are stored as 65,535.
    expect(decodeSegment(encodeSegment({ ids: [7], tfs: [70_000], lengths: [3] }))).toEqual({ ids: [7], tfs: [65_535], lengths: [3] });
  });

  it('refuses ids that are not strictly increasing positive safe integers', () => {
    const bad =
      (ids: number[]): (() => Buffer) =>
      () =>
        encodeSegment({ ids, tfs: ids.map(() => 1), lengths: ids.map(() => 1) });
    expect(bad([2, 1])).toThrow(RangeError);
    expect(bad([5, 5])).toThrow(RangeError);
    expect(bad([1, 3, 2])).toThrow(RangeError);
    expect(bad([0])).toThrow(RangeError);
    expect(bad([-4])).toThrow(RangeError);
    expect(bad([1.5])).toThrow(RangeError);
    expect(bad([Number.NaN])).toThrow(RangeError);
    expect(bad([2 ** 53])).toThrow(RangeError);
    expect(bad([2 ** 40, 2 ** 40 - 1])).toThrow(RangeError);
    expect(bad([1, 2, 2 ** 40])).not.toThrow();
  });

  it('quantised lengths: one byte, exact for their own values, monotone, within 2% of the length', () => {
    for (let qz = 0; qz < 256; qz++) expect(quantizeLength(lengthOf(qz))).toBe(qz);
    expect(quantizeLength(0)).toBe(0);
    expect(quantizeLength(1)).toBe(0);
    expect(lengthOf(0)).toBe(1);
    expect(quantizeLength(1e9)).toBe(255);
    let last = 0;
    let monotone = true;
    let worst = 0;
    for (let n = 1; n <= 20_000; n++) {
      const qz = quantizeLength(n);
      if (qz < last) monotone = false;
      last = qz;
      worst = Math.max(worst, Math.abs(lengthOf(qz) / n - 1));
    }
    expect(monotone).toBe(true);
    expect(worst).toBeLessThanOrEqual(0.0201);
  });
});

describe('a long ingest run merges as it goes', () => {
  it('merges every mergeEveryChunks new chunks, so a search during the run reads few from text', async () => {
    const tenant = await openFreshTenant();
    const dir = tempDir('bulkhead-merge-every-');
    for (let f = 0; f < 12; f++) fs.writeFileSync(path.join(dir, `f${String(f).padStart(2, '0')}.txt`), `turbine blade ${f} `.repeat(40 + f));
    const pendingAfterFile: number[] = [];
    const summary = await ingestPaths(tenant, [dir], {
      embedder,
      mergeEveryChunks: 3,
      onEvent: (e) => {
        if (e.type === 'file-done') pendingAfterFile.push(countRows(tenant, 'SELECT chunk_id FROM term_index_pending'));
      },
    });
    expect(summary.added).toBe(12);
    // The event for a file fires before the merge that may follow it: pending grows by each
    // file's chunks and drops back once at least 3 are waiting.
    expect(Math.max(...pendingAfterFile)).toBeLessThan(3 + summary.chunks / 12 + 2);
    expect(pendingAfterFile.filter((n, i) => i > 0 && n < pendingAfterFile[i - 1]!).length).toBeGreaterThan(0);
    expect(countRows(tenant, 'SELECT chunk_id FROM term_index_pending')).toBe(0);
    expect(bm25TopK(tenant, 'turbine', 20)).toHaveLength(Math.min(20, summary.chunks));
  });
});
