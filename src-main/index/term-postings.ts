// The term index's on-disk form (see term-index.ts for the tables): postings of one stem as
// varint runs sorted by chunk id, and what a chunk contributes to them. Pure: no SQLite, no
// handle, so the writer (term-index.ts), the scorer (term-scorer.ts) and the tests share it.
import { porterStemCached } from '../text/porter.js';
import { indexWords } from '../text/words.js';

/** BM25 parameters, the same as FTS5's bm25(). */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/**
 * A chunk length as one byte: a log scale in steps of 4% (Lucene quantises its length norms to a
 * byte too). Lengths from 1 to about 22,000 tokens; BM25 moves by well under 1% for a 4% length step.
 */
const LENGTH_STEP = Math.log(1.04);
export function quantizeLength(tokens: number): number {
  return Math.min(255, Math.max(0, Math.round(Math.log(Math.max(1, tokens)) / LENGTH_STEP)));
}
export function lengthOf(quantized: number): number {
  return Math.exp(quantized * LENGTH_STEP);
}

/** A chunk's index terms: stem → count, and its length in tokens. */
export interface ChunkTerms {
  readonly length: number;
  readonly tf: Map<string, number>;
}

/** The stem of each index word of `text`, in order (see the header for which words). */
export function indexStems(text: string, cache: Map<string, string>): string[] {
  return indexWords(text).map((word) => porterStemCached(word, cache));
}

export function chunkTerms(text: string, cache: Map<string, string>): ChunkTerms {
  const stems = indexStems(text, cache);
  const tf = new Map<string, number>();
  for (const s of stems) tf.set(s, (tf.get(s) ?? 0) + 1);
  return { length: stems.length, tf };
}

// ---- segments -------------------------------------------------------------------------------

/** Postings of one stem, decoded: parallel arrays sorted by chunk id. */
export interface Postings {
  ids: number[];
  tfs: number[];
  lengths: number[];
}

export function emptyPostings(): Postings {
  return { ids: [], tfs: [], lengths: [] };
}

/** Writes v as a varint at out[p]; returns the position after it. */
function putVarint(out: Uint8Array, p: number, v: number): number {
  while (v > 127) {
    out[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  return p;
}

/** Most bytes of one posting: an id delta below 2^53 (8 varint bytes), tf up to 0xffff (3), the length byte. */
const MAX_POSTING_BYTES = 12;

/** Encodes postings sorted by chunk id (ids strictly increasing). */
export function encodeSegment(postings: Postings): Buffer {
  const out = Buffer.allocUnsafe(postings.ids.length * MAX_POSTING_BYTES);
  let p = 0;
  let last = 0;
  for (let i = 0; i < postings.ids.length; i++) {
    const id = postings.ids[i]!;
    if (!(id > last) || !Number.isSafeInteger(id)) throw new RangeError(`postings must be sorted by chunk id (${id} after ${last})`);
    p = putVarint(out, p, id - last);
    p = putVarint(out, p, Math.min(postings.tfs[i]!, 0xffff));
    out[p++] = postings.lengths[i]! & 255;
    last = id;
  }
  return Buffer.from(out.subarray(0, p));
}

/**
 * A segment without the postings of `drop`, spliced at the byte level: the bytes between dropped
 * postings are copied as they are, and only the delta of the posting after a dropped one is
 * written again. Null when the segment holds none of them.
 */
export function withoutIds(data: Uint8Array, drop: ReadonlySet<number>): { data: Buffer; count: number; removed: number } | null {
  const parts: Uint8Array[] = [];
  const delta = new Uint8Array(8);
  let copyFrom = 0;
  let p = 0;
  let id = 0;
  let lastKept = 0;
  let count = 0;
  let removed = 0;
  let rebase = false;
  while (p < data.length) {
    const start = p;
    let b = data[p++]!;
    let v = b & 127;
    for (let mul = 128; b > 127; mul *= 128) {
      b = data[p++]!;
      v += (b & 127) * mul;
    }
    id += v;
    const afterDelta = p;
    while (data[p++]! > 127);
    p += 1;
    if (drop.has(id)) {
      parts.push(data.subarray(copyFrom, start));
      copyFrom = p;
      removed += 1;
      rebase = true;
      continue;
    }
    if (rebase) {
      parts.push(data.subarray(copyFrom, start), delta.slice(0, putVarint(delta, 0, id - lastKept)));
      copyFrom = afterDelta;
      rebase = false;
    }
    lastKept = id;
    count += 1;
  }
  if (removed === 0) return null;
  parts.push(data.subarray(copyFrom));
  return { data: Buffer.concat(parts), count, removed };
}

/** Calls `visit(id, tf, quantizedLength)` for each posting of a segment, in id order. */
export function forEachPosting(data: Uint8Array, visit: (id: number, tf: number, length: number) => void): void {
  let p = 0;
  let id = 0;
  const n = data.length;
  while (p < n) {
    let b = data[p++]!;
    let v = b & 127;
    for (let mul = 128; b > 127; mul *= 128) {
      b = data[p++]!;
      v += (b & 127) * mul;
    }
    id += v;
    b = data[p++]!;
    let tf = b & 127;
    for (let mul = 128; b > 127; mul *= 128) {
      b = data[p++]!;
      tf += (b & 127) * mul;
    }
    visit(id, tf, data[p++]!);
  }
}

export function decodeSegment(data: Uint8Array): Postings {
  const p = emptyPostings();
  forEachPosting(data, (id, tf, length) => {
    p.ids.push(id);
    p.tfs.push(tf);
    p.lengths.push(length);
  });
  return p;
}

/** Merges postings sorted by id (a chunk is in one of them at most). */
export function mergePostings(lists: readonly Postings[]): Postings {
  const out = emptyPostings();
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let l = 0; l < lists.length; l++) {
      const i = at[l]!;
      if (i < lists[l]!.ids.length && (best < 0 || lists[l]!.ids[i]! < lists[best]!.ids[at[best]!]!)) best = l;
    }
    if (best < 0) return out;
    const list = lists[best]!;
    const i = at[best]!++;
    const id = list.ids[i]!;
    if (out.ids.length > 0 && out.ids.at(-1) === id) throw new RangeError(`chunk ${id} is in two segments of one stem`);
    out.ids.push(id);
    out.tfs.push(list.tfs[i]!);
    out.lengths.push(list.lengths[i]!);
  }
}
