import { describe, expect, it } from 'vitest';
import { HASHED_EMBEDDER_ID, HashedEmbedder, embedText, fnv1a32 } from '../../../src-main/embed/hashed.js';
import { isEmbedderError } from '../../../src-main/embed/embedder.js';

const cos = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Float32Array): number => Math.sqrt(cos(a, a));

describe('HashedEmbedder', () => {
  it('FNV-1a matches the published test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('is the default: id hash-v1, 384 dimensions', async () => {
    const e = new HashedEmbedder();
    expect(e.id).toBe(HASHED_EMBEDDER_ID);
    expect(e.id).toBe('hash-v1');
    expect(e.dimension).toBe(384);
    const [v] = await e.embed(['anything']);
    expect(v).toHaveLength(384);
  });

  it('non-default settings get a different id (a different feature space)', () => {
    expect(new HashedEmbedder({ dimension: 512 }).id).not.toBe('hash-v1');
    expect(new HashedEmbedder({ charWeight: 0 }).id).not.toBe(new HashedEmbedder({ charWeight: 0.1 }).id);
  });

  it('gives the same vector for the same text, across calls and instances', async () => {
    const text = 'Heat transfer in hypersonic boundary layers';
    const [a] = await new HashedEmbedder().embed([text]);
    const [b] = await new HashedEmbedder().embed([text]);
    expect(Array.from(a!)).toEqual(Array.from(b!));
  });

  it('hash-v1 vectors never change (pinned values: a change needs a new id)', () => {
    const v = embedText('Supersonic flow over a swept wing');
    const nonZero = Array.from(v.keys()).filter((i) => v[i] !== 0);
    expect(nonZero.slice(0, 5)).toEqual(GOLDEN_FIRST_NONZERO);
    expect(v[17]).toBeCloseTo(-0.115451, 6);
    let checksum = 0;
    v.forEach((x, i) => {
      checksum += x * ((i % 7) + 1);
    });
    expect(checksum).toBeCloseTo(GOLDEN_CHECKSUM, 5);
  });

  it('returns unit-length vectors, and the zero vector for text with no letters or digits', async () => {
    const e = new HashedEmbedder();
    const [a, b, empty, punct] = await e.embed(['short', 'a much longer passage about wings, flutter and flow '.repeat(20), '', '?!… --- ***']);
    expect(norm(a!)).toBeCloseTo(1, 5);
    expect(norm(b!)).toBeCloseTo(1, 5);
    expect(Array.from(empty!).every((x) => x === 0)).toBe(true);
    expect(Array.from(punct!).every((x) => x === 0)).toBe(true);
  });

  it('treats accents, case and compatibility forms as the same letters', () => {
    expect(cos(embedText('café'), embedText('cafe'))).toBeGreaterThan(0.999);
    expect(cos(embedText('Naïve RÉSUMÉ'), embedText('naive resume'))).toBeGreaterThan(0.999);
    expect(cos(embedText('ﬁnite Ｗing'), embedText('finite wing'))).toBeGreaterThan(0.999);
    expect(cos(embedText('café'), embedText('tea'))).toBeLessThan(0.5);
  });

  it('conflates inflections by stemming', () => {
    expect(cos(embedText('oscillating wings'), embedText('oscillation of a wing'))).toBeGreaterThan(0.6);
  });

  it('gives CJK and other unspaced text non-zero vectors that match on shared words', () => {
    const tokyo = embedText('東京都の人口');
    expect(norm(tokyo)).toBeCloseTo(1, 5);
    expect(norm(embedText('ภาษาไทย'))).toBeCloseTo(1, 5);
    expect(norm(embedText('한국어 텍스트'))).toBeCloseTo(1, 5);
    expect(norm(embedText('東'))).toBeCloseTo(1, 5);
    expect(cos(tokyo, embedText('東京の天気'))).toBeGreaterThan(cos(tokyo, embedText('大阪の天気')));
    expect(cos(embedText('Привет мир'), embedText('привет'))).toBeGreaterThan(0.5);
  });

  it('ranks the passage about the query above an unrelated one', () => {
    const q = embedText('pressure distribution on a blunt body at hypersonic speed');
    const relevant = embedText('Measured pressure distributions over blunt bodies in hypersonic flow.');
    const other = embedText('A survey of fatigue cracks in riveted aluminium joints.');
    expect(cos(q, relevant)).toBeGreaterThan(cos(q, other) + 0.2);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new HashedEmbedder().embed(['x'], controller.signal)).rejects.toSatisfy((err: unknown) => isEmbedderError(err, 'ABORTED'));
  });

  it('refuses a nonsensical dimension', () => {
    expect(() => new HashedEmbedder({ dimension: 0 })).toThrow();
    expect(() => new HashedEmbedder({ dimension: 12.5 })).toThrow();
  });
});

// Pinned from the reference implementation; see the test above.
const GOLDEN_FIRST_NONZERO: number[] = [10, 17, 20, 21, 27];
const GOLDEN_CHECKSUM = -4.857471518218517;
