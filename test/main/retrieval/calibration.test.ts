import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Embedder } from '../../../src-main/embed/embedder.js';
import { EmbedderError } from '../../../src-main/embed/embedder.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import {
  CALIBRATION_MIN_CHUNKS,
  CALIBRATION_WEIGHTS,
  calibrateTenant,
  fusionWeightFor,
  pendingCalibration,
  readCalibration,
  syntheticQueries,
} from '../../../src-main/retrieval/calibration.js';
import { reembedTenant } from '../../../src-main/retrieval/reembed.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { hybridRank, SEARCH_DEFAULTS } from '../../../src-main/retrieval/search.js';
import { readTenantMeta, writeTenantMeta } from '../../../src-main/vault/tenant-meta.js';
import { closeTenants, storeChunks, tenantWithChunks } from '../../helpers/retrieval.js';

afterEach(closeTenants);

const KEY = 'retrieval.fusion-calibration';

/**
 * A collection of `count` passages on 15 subjects: each subject has its own words (made of
 * syllables, so no two subjects share one), and each passage draws 40 of them, seeded, plus a few
 * words every subject uses. Deterministic.
 */
function corpus(count: number, seed = 7): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'pe', 'dri', 'zan', 'gul', 'fen'];
  let a = seed;
  const random = (): number => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
  const words = (subject: number): string[] =>
    Array.from({ length: 30 }, (_, i) => `${syllables[subject % 12]}${syllables[i % 12]}${syllables[Math.floor(i / 12) + (subject >= 12 ? 6 : 0)]}r`);
  const common = ['report', 'measured', 'results', 'method', 'study', 'value'];
  return Array.from({ length: count }, (_, p) => {
    const own = words(p % 15);
    const text = Array.from({ length: 40 }, () => own[Math.floor(random() * own.length)]!);
    for (let i = 0; i < 6; i++) text.splice(Math.floor(random() * text.length), 0, common[Math.floor(random() * common.length)]!);
    return `${text.join(' ')}.`;
  });
}

/** Vectors that say nothing about the text: a unit vector seeded by its hash (as from another corpus). */
class RandomEmbedder implements Embedder {
  readonly id = 'random-test';
  readonly dimension = 64;
  failing = false;
  async embed(texts: string[]): Promise<Float32Array[]> {
    if (this.failing) throw new EmbedderError('UNREACHABLE', 'the test embedder is down');
    return texts.map((t) => {
      const v = new Float32Array(this.dimension);
      for (let i = 0; i < v.length; i++) v[i] = crypto.createHash('sha256').update(`${i}:${t}`).digest().readInt32LE(0) / 2 ** 31;
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
  }
}

describe('fusion calibration per tenant', () => {
  it('is deterministic: the same queries and the same weight for the same passages, in two tenants', async () => {
    const embedder = new HashedEmbedder();
    const a = await tenantWithChunks(embedder, corpus(120));
    const b = await tenantWithChunks(embedder, corpus(120));
    const queries = syntheticQueries(a.tenant);
    expect(queries.length).toBeGreaterThan(40);
    expect(syntheticQueries(a.tenant)).toEqual(queries);
    // Queries are a few of the passage's own words, not the passage.
    for (const q of queries) {
      expect(q.text.split(' ')).toHaveLength(4);
      const source = a.tenant.db.prepare('SELECT text FROM chunks WHERE id = ?').pluck().get(q.chunkId) as string;
      for (const w of q.text.split(' ')) expect(source).toContain(w);
    }
    const first = await calibrateTenant(a.tenant, embedder);
    expect(first).not.toBeNull();
    expect(CALIBRATION_WEIGHTS).toContain(first!.vectorWeight);
    expect(first!.chunks).toBe(120);
    expect(await calibrateTenant(a.tenant, embedder)).toEqual(first);
    expect(await calibrateTenant(b.tenant, embedder)).toEqual(first);
  });

  it('gives a tenant whose vectors are useless a vector weight of 0 or near it', async () => {
    const s = await tenantWithChunks(new RandomEmbedder(), corpus(150));
    const c = await calibrateTenant(s.tenant, new RandomEmbedder());
    expect(c).not.toBeNull();
    expect(c!.vectorWeight).toBeLessThanOrEqual(0.2);
    expect(c!.vectorWeight).toBeLessThan(SEARCH_DEFAULTS.vectorWeight);
    // The scores it chose by: the noise list only costs as its weight grows.
    expect(c!.scores['0']).toBeGreaterThan(c!.scores['1']!);
  });

  it('is stored in its tenant file only, and another tenant searches with its own (the default until calibrated)', async () => {
    const random = new RandomEmbedder();
    const a = await tenantWithChunks(random, corpus(150));
    const b = await tenantWithChunks(random, corpus(150, 99));
    expect(fusionWeightFor(a.tenant, random)).toBe(SEARCH_DEFAULTS.vectorWeight); // none yet: starts one
    await pendingCalibration(a.tenant);
    const stored = readCalibration(a.tenant);
    expect(stored?.vectorWeight).toBeLessThanOrEqual(0.2);
    expect(readTenantMeta(a.tenant, KEY)).toBeDefined();
    expect(readTenantMeta(b.tenant, KEY)).toBeUndefined();
    expect(fusionWeightFor(a.tenant, random)).toBe(stored!.vectorWeight);
    // B's first search does not see A's weight; it starts B's own calibration, from B's passages.
    const before = await searchKnowledge(b.tenant, 'report study', { embedder: random });
    expect(before.mode).toBe('hybrid');
    expect(pendingCalibration(b.tenant)).toBeDefined();
    await pendingCalibration(b.tenant);
    const own = readCalibration(b.tenant);
    expect(own).not.toBeNull();
    expect(syntheticQueries(b.tenant)).not.toEqual(syntheticQueries(a.tenant));
  });

  it("searchKnowledge ranks with the tenant's calibrated weight", async () => {
    const random = new RandomEmbedder();
    const s = await tenantWithChunks(random, corpus(150));
    const c = await calibrateTenant(s.tenant, random);
    const query = 'report study method';
    const ids = (h: { chunkId: number }[]): number[] => h.slice(0, 10).map((x) => x.chunkId);
    const calibrated = ids((await hybridRank(s.tenant, random, query, { ...SEARCH_DEFAULTS, vectorWeight: c!.vectorWeight })).fused);
    const fixed = ids((await hybridRank(s.tenant, random, query, SEARCH_DEFAULTS)).fused);
    expect(calibrated).not.toEqual(fixed);
    const found = await searchKnowledge(s.tenant, query, { embedder: random });
    expect(ids(found.passages)).toEqual(calibrated);
  });

  it('keeps the default in a tiny tenant, and recalibrates once the tenant has doubled', async () => {
    const embedder = new RandomEmbedder();
    const s = await tenantWithChunks(embedder, corpus(CALIBRATION_MIN_CHUNKS - 1));
    expect(fusionWeightFor(s.tenant, embedder)).toBe(SEARCH_DEFAULTS.vectorWeight);
    expect(pendingCalibration(s.tenant)).toBeUndefined();
    expect(await calibrateTenant(s.tenant, embedder)).toBeNull();
    await storeChunks(
      s.tenant,
      embedder,
      corpus(40, 3).map((text, i) => ({ documentKey: `more-${i}`, ordinal: 0, text })),
    );
    fusionWeightFor(s.tenant, embedder);
    await pendingCalibration(s.tenant);
    expect(readCalibration(s.tenant)?.chunks).toBe(CALIBRATION_MIN_CHUNKS + 39);
    // Within a factor of two: no new run.
    await storeChunks(
      s.tenant,
      embedder,
      corpus(60, 5).map((text, i) => ({ documentKey: `again-${i}`, ordinal: 0, text })),
    );
    fusionWeightFor(s.tenant, embedder);
    expect(pendingCalibration(s.tenant)).toBeUndefined();
    await storeChunks(
      s.tenant,
      embedder,
      corpus(40, 6).map((text, i) => ({ documentKey: `last-${i}`, ordinal: 0, text })),
    );
    fusionWeightFor(s.tenant, embedder);
    await pendingCalibration(s.tenant);
    expect(readCalibration(s.tenant)?.chunks).toBe(CALIBRATION_MIN_CHUNKS + 39 + 100);
  });

  it('a re-embedded tenant does not use the weight calibrated on its old vectors, and calibrates the new ones', async () => {
    const random = new RandomEmbedder();
    const s = await tenantWithChunks(random, corpus(150));
    const old = await calibrateTenant(s.tenant, random);
    expect(old!.vectorWeight).toBeLessThanOrEqual(0.2);
    const hashed = new HashedEmbedder();
    await reembedTenant(s.tenant, { kind: 'hash' }, hashed);
    expect(fusionWeightFor(s.tenant, hashed)).toBe(SEARCH_DEFAULTS.vectorWeight);
    await pendingCalibration(s.tenant);
    const fresh = readCalibration(s.tenant);
    expect(fresh?.embedderId).toBe(hashed.id);
    expect(fresh?.generation).toBe(old!.generation + 1);
    expect(fusionWeightFor(s.tenant, hashed)).toBe(fresh!.vectorWeight);
  });

  it('a calibration that fails, or a stored value that is unreadable, leaves the default and never fails a search', async () => {
    const embedder = new RandomEmbedder();
    const s = await tenantWithChunks(embedder, corpus(120));
    embedder.failing = true;
    // The search falls back to full text; the calibration it started fails quietly and stores nothing.
    const down = await searchKnowledge(s.tenant, 'report study', { embedder });
    expect(down.mode).toBe('full-text');
    expect(await pendingCalibration(s.tenant)).toBeNull();
    expect(readTenantMeta(s.tenant, KEY)).toBeUndefined();
    embedder.failing = false;
    // Not retried at every search while nothing changed: the default weight, hybrid search.
    expect(fusionWeightFor(s.tenant, embedder)).toBe(SEARCH_DEFAULTS.vectorWeight);
    expect(pendingCalibration(s.tenant)).toBeUndefined();
    expect((await searchKnowledge(s.tenant, 'report study', { embedder })).mode).toBe('hybrid');

    writeTenantMeta(s.tenant, KEY, '{"vectorWeight": "lots"');
    expect(readCalibration(s.tenant)).toBeNull();
    expect(fusionWeightFor(s.tenant, embedder)).toBe(SEARCH_DEFAULTS.vectorWeight);
    const r = await searchKnowledge(s.tenant, 'report study', { embedder });
    expect(r.mode).toBe('hybrid');
    expect(r.passages.length).toBeGreaterThan(0);
  });
});
