// The offline embedder, tuned to one tenant: a term space learnt from the tenant's own passages
// (latent semantic analysis), joined to the hash vector (hashed.ts) as one vector. The hash vector
// alone knows no word's neighbours: "lift" and "drag" are as far apart as "lift" and "cheese". The
// term space is the truncated SVD of the tenant's chunks × stems matrix (sublinear tf × idf, rows
// L2-normalised), so words that occur in the same passages share directions, and a passage's
// vector is its term weights projected onto the top singular vectors. On the three judged
// collections this vector side alone goes from 0.31 to 0.41 nDCG@10 (Cranfield), 0.17 to 0.32
// (NFCorpus) and 0.28 to 0.52 (ArguAna); see bench/prototypes/term-space/README.md.
//
// One vector: [sqrt(0.3) · unit(hash) ; sqrt(0.7) · unit(term space)], so the cosine of two is a
// fixed blend of the two similarities, and the vector index, its SimHash codes and int8 copies
// serve it unchanged. The model (stems, idf, basis) lives in the tenant's own file (table
// term_spaces, named by the SHA-256 of its bytes), is learnt from that tenant's text only and
// read only for it: the embedder's id names the model, so vectors of two models are never mixed.
import crypto from 'node:crypto';
import { z } from 'zod';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { porterStemCached } from '../text/porter.js';
import { indexWords } from '../text/words.js';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './embedder.js';
import { embedText, HASHED_DEFAULTS } from './hashed.js';
import { truncatedSvd } from './svd.js';

export const TERM_SPACE_FORMAT = 'terms-v1';

/** How a term space is learnt. Changing a value changes the models learnt from now on (each names itself by its bytes). */
export const TERM_SPACE_SETTINGS = {
  /** The hash vector's share of the squared norm (its cosine's weight in the blend). */
  hashShare: 0.3,
  /** A stem in fewer chunks than this has no direction of its own (it says nothing about co-occurrence). */
  minChunkFrequency: 2,
  /** The most stems a model keeps, the most frequent first (bounds the model: 32,768 × 256 float32 is 32 MiB). */
  maxTerms: 32_768,
  /** Dimensions: one per this many chunks, within minRank..maxRank. Chosen on the three collections (README above). */
  chunksPerDimension: 16,
  minRank: 64,
  maxRank: 256,
  /** A larger tenant learns from a seeded sample of this many chunks (the space generalises; the cost stays bounded). */
  maxTrainingChunks: 20_000,
  oversample: 10,
  powerIterations: 1,
  seed: 0x7e125,
} as const;

/** The dimensions of a space learnt from `chunks` chunks. */
export function termSpaceRank(chunks: number): number {
  const s = TERM_SPACE_SETTINGS;
  return Math.max(s.minRank, Math.min(s.maxRank, Math.floor(chunks / s.chunksPerDimension)));
}

export interface TermSpace {
  /** SHA-256 of the encoded model, hex: its name in the file and in the embedder's id. */
  readonly sha256: string;
  readonly rank: number;
  /** Chunks it was learnt from. */
  readonly chunks: number;
  /** Stem to row of `basis`. */
  readonly terms: ReadonlyMap<string, number>;
  readonly idf: Float32Array;
  /** terms × rank, row-major. */
  readonly basis: Float32Array;
}

const MAGIC = new TextEncoder().encode('BHTERMS1');

const Header = z
  .object({
    format: z.literal(TERM_SPACE_FORMAT),
    rank: z.number().int().min(1).max(1024),
    chunks: z.number().int().min(0),
    stems: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(TERM_SPACE_SETTINGS.maxTerms)
      .refine((s) => new Set(s).size === s.length, 'a stem appears twice'),
  })
  .strict();

function stemCounts(text: string, stems: Map<string, string>): Map<string, number> {
  const tf = new Map<string, number>();
  for (const word of indexWords(text)) {
    const stem = porterStemCached(word, stems);
    tf.set(stem, (tf.get(stem) ?? 0) + 1);
  }
  return tf;
}

export interface LearnOptions {
  /** Called between the expensive steps; throws to stop. */
  readonly checkpoint?: () => void;
}

/**
 * Learns a term space from passages (a tenant's chunks): its encoded bytes, ready to store.
 * Deterministic: the same passages in the same order give the same bytes. Throws RangeError when
 * the passages share too few words to learn from.
 */
export function learnTermSpace(texts: readonly string[], opts: LearnOptions = {}): Uint8Array {
  const s = TERM_SPACE_SETTINGS;
  const stems = new Map<string, string>();
  const counts = texts.map((t) => stemCounts(t, stems));
  const df = new Map<string, number>();
  for (const tf of counts) for (const stem of tf.keys()) df.set(stem, (df.get(stem) ?? 0) + 1);
  const vocabulary = [...df]
    .filter(([, n]) => n >= s.minChunkFrequency)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, s.maxTerms)
    .map(([stem]) => stem);
  const rank = Math.min(termSpaceRank(texts.length), texts.length - 1, vocabulary.length - 1);
  if (rank < 8) throw new RangeError(`too little shared text to learn a term space (${texts.length} passages, ${vocabulary.length} shared stems)`);
  const column = new Map(vocabulary.map((stem, j) => [stem, j]));
  const n = texts.length;
  const idf = new Float64Array(vocabulary.length);
  vocabulary.forEach((stem, j) => {
    const d = df.get(stem)!;
    idf[j] = Math.log((n - d + 0.5) / (d + 0.5) + 1);
  });
  // The chunks × stems matrix: (1 + ln tf) × idf, each row L2-normalised.
  const rowStart = new Int32Array(n + 1);
  const cols: number[] = [];
  const values: number[] = [];
  counts.forEach((tf, i) => {
    const at = cols.length;
    for (const [stem, f] of tf) {
      const j = column.get(stem);
      if (j === undefined) continue;
      cols.push(j);
      values.push((1 + Math.log(f)) * idf[j]!);
    }
    let norm = 0;
    for (let p = at; p < values.length; p++) norm += values[p]! * values[p]!;
    if (norm > 0) for (let p = at; p < values.length; p++) values[p]! /= Math.sqrt(norm);
    rowStart[i + 1] = cols.length;
  });
  opts.checkpoint?.();
  const svd = truncatedSvd({ rows: n, cols: vocabulary.length, rowStart, colIndex: Int32Array.from(cols), values: Float64Array.from(values) }, rank, {
    oversample: s.oversample,
    powerIterations: s.powerIterations,
    seed: s.seed,
    ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}),
  });
  return encodeTermSpace({ rank, chunks: n, stems: vocabulary, idf: Float32Array.from(idf), basis: Float32Array.from(svd.right) });
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function putFloats(view: DataView, at: number, values: Float32Array): void {
  if (LITTLE_ENDIAN)
    new Uint8Array(view.buffer, view.byteOffset + at, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  else for (let i = 0; i < values.length; i++) view.setFloat32(at + i * 4, values[i]!, true);
}

function getFloats(view: DataView, at: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(new Uint8Array(view.buffer, view.byteOffset + at, count * 4));
  else for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + i * 4, true);
  return out;
}

/** The stored form: magic, header length (uint32 LE), JSON header, padding to 4, idf and basis as float32 LE. */
export function encodeTermSpace(model: { rank: number; chunks: number; stems: readonly string[]; idf: Float32Array; basis: Float32Array }): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ format: TERM_SPACE_FORMAT, rank: model.rank, chunks: model.chunks, stems: model.stems }));
  const floatsAt = Math.ceil((MAGIC.length + 4 + header.length) / 4) * 4;
  const bytes = new Uint8Array(floatsAt + (model.idf.length + model.basis.length) * 4);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(MAGIC.length, header.length, true);
  bytes.set(header, MAGIC.length + 4);
  putFloats(view, floatsAt, model.idf);
  putFloats(view, floatsAt + model.idf.length * 4, model.basis);
  return bytes;
}

function corrupt(what: string): EmbedderError {
  return new EmbedderError('CORRUPT', `this tenant's learnt term space is damaged (${what}); it is learnt again at the next search`);
}

/**
 * Reads an encoded term space, checking every part (a file can be imported from anywhere):
 * EmbedderError CORRUPT names what is wrong. `sha256`, when given, must be the bytes' hash.
 */
export function decodeTermSpace(bytes: Uint8Array, sha256?: string): TermSpace {
  const hash = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== undefined && hash !== sha256) throw corrupt('its bytes do not match its name');
  if (bytes.length < MAGIC.length + 4 || MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt('not a term space');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + headerLength > bytes.length) throw corrupt('its header is cut short');
  let header: z.infer<typeof Header>;
  try {
    header = Header.parse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength))));
  } catch {
    throw corrupt('its header is not one this build reads');
  }
  const floatsAt = Math.ceil((MAGIC.length + 4 + headerLength) / 4) * 4;
  const terms = header.stems.length;
  if (bytes.length !== floatsAt + terms * (1 + header.rank) * 4) throw corrupt('its size does not match its header');
  const idf = getFloats(view, floatsAt, terms);
  const basis = getFloats(view, floatsAt + terms * 4, terms * header.rank);
  for (const v of idf) if (!Number.isFinite(v) || v < 0) throw corrupt('an idf is not a finite positive number');
  for (const v of basis) if (!Number.isFinite(v)) throw corrupt('its basis holds a number that is not finite');
  return { sha256: hash, rank: header.rank, chunks: header.chunks, terms: new Map(header.stems.map((stem, j) => [stem, j])), idf, basis };
}

/** A text's unit vector in the term space (all zeros when it has no stem the space knows). */
export function termSpaceVector(space: TermSpace, text: string, stems = new Map<string, string>()): Float64Array {
  const out = new Float64Array(space.rank);
  for (const [stem, f] of stemCounts(text, stems)) {
    const j = space.terms.get(stem);
    if (j === undefined) continue;
    const w = (1 + Math.log(f)) * space.idf[j]!;
    const row = j * space.rank;
    for (let c = 0; c < space.rank; c++) out[c]! += w * space.basis[row + c]!;
  }
  let norm = 0;
  for (let c = 0; c < out.length; c++) norm += out[c]! * out[c]!;
  if (norm > 0) for (let c = 0; c < out.length; c++) out[c]! /= Math.sqrt(norm);
  return out;
}

/** The id of the embedder of a term space: its format and the model's hash. */
export function termSpaceEmbedderId(sha256: string): string {
  return `${TERM_SPACE_FORMAT}:${sha256}`;
}

/** The vector length of a term space's embedder: the hash vector's, then the space's. */
export function termSpaceDimension(rank: number): number {
  return HASHED_DEFAULTS.dimension + rank;
}

/**
 * The tuned offline embedder: hash vector and term space, one vector (see the header). The
 * space is read from the tenant's file at the first embed (`load`), so choosing the embedder
 * costs nothing and a damaged model fails the embedding (EmbedderError CORRUPT, which a search
 * answers with full-text results), not the caller's setup.
 */
export class TermSpaceEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly #load: () => TermSpace;
  #space: TermSpace | undefined;
  readonly #stems = new Map<string, string>();

  constructor(config: { sha256: string; dimension: number; load: () => TermSpace }) {
    this.id = termSpaceEmbedderId(config.sha256);
    this.dimension = config.dimension;
    this.#load = config.load;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const space = (this.#space ??= this.#load());
    if (termSpaceDimension(space.rank) !== this.dimension)
      throw corrupt(`it has ${space.rank} dimensions, its setting says ${this.dimension - HASHED_DEFAULTS.dimension}`);
    const hashWeight = Math.sqrt(TERM_SPACE_SETTINGS.hashShare);
    const spaceWeight = Math.sqrt(1 - TERM_SPACE_SETTINGS.hashShare);
    const hashLength = HASHED_DEFAULTS.dimension;
    return texts.map((text) => {
      if (signal?.aborted) throw new EmbedderError('ABORTED', 'embedding was cancelled', { cause: signal.reason });
      const out = new Float32Array(this.dimension);
      const hash = embedText(text, HASHED_DEFAULTS, this.#stems);
      for (let i = 0; i < hashLength; i++) out[i] = hashWeight * hash[i]!;
      const projected = termSpaceVector(space, text, this.#stems);
      for (let c = 0; c < space.rank; c++) out[hashLength + c] = spaceWeight * projected[c]!;
      return out;
    });
  }
}

/** Decoded term spaces of an open tenant, by hash (dropped, and wiped, when it closes). */
const SPACES = cacheKey<Map<string, TermSpace>>('term spaces');

/**
 * Stores an encoded term space in the tenant's file: its hash. A row of the same hash is written
 * over (its bytes can only be these, or a damaged copy of them).
 */
export function saveTermSpace(tenant: TenantHandle, bytes: Uint8Array): string {
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  tenant.db
    .prepare('INSERT INTO term_spaces (sha256, model, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET model = excluded.model')
    .run(sha256, Buffer.from(bytes), new Date().toISOString());
  tenant.cache.get(SPACES)?.delete(sha256);
  return sha256;
}

/** The tenant's term space of this hash (EmbedderError CORRUPT when it is missing or damaged). */
export function loadTermSpace(tenant: TenantHandle, sha256: string): TermSpace {
  const kept = tenant.cache.get(SPACES, () => new Map());
  const hit = kept.get(sha256);
  if (hit) return hit;
  const bytes = tenant.db.prepare('SELECT model FROM term_spaces WHERE sha256 = ?').pluck().get(sha256) as Buffer | undefined;
  if (!bytes) throw corrupt('it is missing from the file');
  const space = decodeTermSpace(bytes, sha256);
  kept.set(sha256, space);
  return space;
}

/** Deletes the tenant's term spaces other than `keep` (the one its embedder uses, or none). */
export function pruneTermSpaces(tenant: TenantHandle, keep: string | null): number {
  const kept = tenant.cache.get(SPACES);
  if (kept) for (const sha of [...kept.keys()]) if (sha !== keep) kept.delete(sha);
  return tenant.db.prepare('DELETE FROM term_spaces WHERE sha256 IS NOT ?').run(keep).changes;
}
