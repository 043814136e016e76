import { describe, expect, it } from 'vitest';
import { isEmbedderError } from '../../../src-main/embed/embedder.js';
import { embedText } from '../../../src-main/embed/hashed.js';
import {
  decodeTermSpace,
  encodeTermSpace,
  learnTermSpace,
  TermSpaceEmbedder,
  termSpaceDimension,
  termSpaceRank,
  termSpaceVector,
} from '../../../src-main/embed/term-space.js';
import { mulberry32 } from '../../../src-shared/seeded-random.js';
import { cosine } from '../../helpers/retrieval.js';

/**
 * Passages on 30 subjects, each with 30 words of its own (made of syllables, so no two subjects
 * share one), 12 drawn per passage. The first subject's passages also say "car" or "automobile",
 * never both: the two words never meet, only their neighbours say they belong together.
 */
const word = (subject: number, w: number): string => {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'pe', 'dri', 'zan', 'gul', 'fen'];
  return `${syllables[subject % 12]}${syllables[Math.floor(subject / 12) % 12]}${syllables[w % 12]}${syllables[Math.floor(w / 12)]}x`;
};

function corpus(count: number): string[] {
  const random = mulberry32(42);
  return Array.from({ length: count }, (_, i) => {
    const subject = i % 30;
    const text = Array.from({ length: 12 }, () => word(subject, Math.floor(random() * 30)));
    if (subject === 0) text.push(random() < 0.5 ? 'car' : 'automobile');
    return `${text.join(' ')}.`;
  });
}

describe('the learnt term space', () => {
  const texts = corpus(1500);
  const bytes = learnTermSpace(texts);
  const space = decodeTermSpace(bytes);

  it('puts words that share neighbours together, which the hash vector cannot', () => {
    const query = 'automobile';
    const carPassage = `car ${word(0, 1)} ${word(0, 2)} ${word(0, 3)}`;
    const elsewhere = `${word(5, 1)} ${word(5, 2)} ${word(5, 3)}`;
    const inSpace = termSpaceVector(space, query);
    expect(cosine(inSpace, termSpaceVector(space, carPassage))).toBeGreaterThan(cosine(inSpace, termSpaceVector(space, elsewhere)) + 0.15);
    // The hash vector sees no shared word: "automobile" is as far from the one as from the other.
    expect(Math.abs(cosine(embedText(query), embedText(carPassage)) - cosine(embedText(query), embedText(elsewhere)))).toBeLessThan(0.1);
  });

  it('is deterministic, sized by the passages, and reads back exactly', () => {
    expect(learnTermSpace(texts)).toEqual(bytes);
    expect(space.rank).toBe(termSpaceRank(1500));
    expect(space.chunks).toBe(1500);
    expect(space.terms.has('car')).toBe(true);
    const again = decodeTermSpace(
      encodeTermSpace({ rank: space.rank, chunks: space.chunks, stems: [...space.terms.keys()], idf: space.idf, basis: space.basis }),
    );
    expect(again.sha256).toBe(space.sha256);
    expect(Array.from(again.basis)).toEqual(Array.from(space.basis));
  });

  it('refuses passages that share too few words', () => {
    expect(() => learnTermSpace(['one lonely passage', 'another unrelated text'])).toThrow(RangeError);
  });

  it('refuses damaged bytes with CORRUPT, naming what is wrong', () => {
    const damaged = (b: Uint8Array, sha?: string): string => {
      try {
        decodeTermSpace(b, sha);
      } catch (err) {
        expect(isEmbedderError(err, 'CORRUPT')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('accepted damaged bytes');
    };
    expect(damaged(bytes.subarray(0, bytes.length - 4))).toMatch(/size/);
    expect(damaged(bytes, '0'.repeat(64))).toMatch(/do not match its name/);
    expect(damaged(new TextEncoder().encode('SQLite format 3\0'))).toMatch(/not a term space/);
    const nan = Uint8Array.from(bytes);
    new DataView(nan.buffer).setFloat32(nan.length - 4, Number.NaN, true);
    expect(damaged(nan)).toMatch(/not finite/);
    const header = Uint8Array.from(bytes);
    header[14] = 0x7b; // inside the JSON header
    expect(damaged(header)).toMatch(/header/);
    const huge = Uint8Array.from(bytes);
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    expect(damaged(huge)).toMatch(/cut short/);
  });

  it('embeds as one vector: the hash part and the space part, in their shares', async () => {
    const embedder = new TermSpaceEmbedder({ sha256: space.sha256, dimension: termSpaceDimension(space.rank), load: () => space });
    expect(embedder.id).toBe(`terms-v1:${space.sha256}`);
    const [v, none] = await embedder.embed(['automobile engine', '1234 5678']);
    expect(v).toHaveLength(384 + space.rank);
    const hashPart = v!.subarray(0, 384);
    const spacePart = v!.subarray(384);
    expect(cosine(hashPart, embedText('automobile engine'))).toBeCloseTo(1, 5);
    expect(hashPart.reduce((s, x) => s + x * x, 0)).toBeCloseTo(0.3, 5);
    expect(spacePart.reduce((s, x) => s + x * x, 0)).toBeCloseTo(0.7, 5);
    // Numbers the space does not know: the space part is zero, the hash part stays.
    expect(none!.subarray(384).every((x) => x === 0)).toBe(true);
    const wrong = new TermSpaceEmbedder({ sha256: space.sha256, dimension: 384 + space.rank + 1, load: () => space });
    await expect(wrong.embed(['x'])).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});
