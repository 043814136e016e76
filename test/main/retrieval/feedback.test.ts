import { afterEach, describe, expect, it } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { chunkTexts, chunkVectors, expansionWords, rocchio } from '../../../src-main/retrieval/feedback.js';
import { closeTenants, tenantWithChunks } from '../../helpers/retrieval.js';

afterEach(closeTenants);

describe('rocchio', () => {
  it('moves the query towards the feedback centroid and returns a unit vector', () => {
    const q = new Float32Array([1, 0, 0]);
    const out = rocchio(q, [new Float32Array([0, 1, 0]), new Float32Array([0, 0, 1])], 2);
    // q + 2 * mean = (1, 1, 1) -> normalised
    for (const x of out) expect(x).toBeCloseTo(1 / Math.sqrt(3), 6);
    expect(Array.from(q)).toEqual([1, 0, 0]); // the input is not modified
  });

  it('ignores vectors of another length and returns the query when there is no feedback', () => {
    const q = new Float32Array([0.6, 0.8]);
    expect(Array.from(rocchio(q, [new Float32Array([1, 2, 3])], 1))).toEqual(Array.from(q));
    expect(Array.from(rocchio(q, [], 1))).toEqual(Array.from(q));
  });
});

describe('expansionWords', () => {
  it('picks words the feedback passages share, weighted by rarity, not the query words', async () => {
    const embedder = new HashedEmbedder({ dimension: 16 });
    const common = 'results study paper';
    const { tenant } = await tenantWithChunks(embedder, [
      `flutter of wings: aeroelastic divergence ${common}`,
      `wing flutter and aeroelastic stiffness ${common}`,
      ...Array.from({ length: 20 }, (_, i) => `${common} number ${i}`),
    ]);
    const feedback = ['flutter of wings: aeroelastic divergence results', 'wing flutter and aeroelastic stiffness results'];
    const words = expansionWords(tenant, 'wing flutter', feedback, 10);
    // In both feedback passages: first. Not "flutter" or "wings" (the query's stems), not
    // "results" (in most passages of the index: no information).
    expect(words[0]).toBe('aeroelastic');
    expect([...words].sort()).toEqual(['aeroelastic', 'divergence', 'stiffness']);
    expect(expansionWords(tenant, 'wing flutter', feedback, 10)).toEqual(words); // deterministic
    expect(expansionWords(tenant, 'wing flutter', feedback, 1)).toEqual(['aeroelastic']);
    expect(expansionWords(tenant, 'x', [], 3)).toEqual([]);
  });

  it("takes document frequencies from the tenant's own index", async () => {
    // The same feedback against an index where "aeroelastic" is in every passage: no longer informative.
    const embedder = new HashedEmbedder({ dimension: 16 });
    const { tenant } = await tenantWithChunks(
      embedder,
      Array.from({ length: 20 }, (_, i) => `aeroelastic report ${i}`),
    );
    const words = expansionWords(tenant, 'wing flutter', ['aeroelastic divergence', 'aeroelastic stiffness'], 10);
    expect(words).not.toContain('aeroelastic');
    expect([...words].sort()).toEqual(['divergence', 'stiffness']);
  });
});

describe('chunkVectors / chunkTexts', () => {
  it('reads stored vectors and texts back unchanged, skipping ids that do not exist', async () => {
    const embedder = new HashedEmbedder({ dimension: 16 });
    const { tenant, index, chunkIds } = await tenantWithChunks(embedder, ['lift and drag', 'thrust and weight']);
    const [lift, thrust] = chunkIds as [number, number];
    const stored = chunkVectors(tenant, index, [thrust, 999_999, lift]);
    const fresh = await embedder.embed(['thrust and weight', 'lift and drag']);
    expect(stored).toHaveLength(2);
    expect(Array.from(stored[0]!)).toEqual(Array.from(fresh[0]!));
    expect(Array.from(stored[1]!)).toEqual(Array.from(fresh[1]!));
    expect(chunkVectors(tenant, index, [999_999])).toEqual([]);
    expect(chunkTexts(tenant, [thrust, 999_999, lift])).toEqual(['thrust and weight', 'lift and drag']);
  });
});
