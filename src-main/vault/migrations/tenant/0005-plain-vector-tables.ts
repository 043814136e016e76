import type { Migration } from '../migrate.js';

const BATCH = 2000;

// Frozen copies of quantizeInt8 and simhash as released with this migration (index/quantize.ts,
// index/simhash.ts): a migration never imports live code, so it means the same thing forever.

/**
 * Int8 copies of the float vectors for the re-rank stage: each vector scaled so that its largest
 * component is ±127. Cosine similarity ignores a vector's scale, so one scale per vector costs
 * nothing at search time, and a 384-dimension vector takes 384 bytes instead of 1,536: ten to a
 * page, so the few thousand rows a search re-ranks stay in SQLite's page cache.
 */
function quantizeInt8(vector: Float32Array): Buffer {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i]!));
  const out = new Int8Array(vector.length);
  if (max > 0) {
    const scale = 127 / max;
    for (let i = 0; i < vector.length; i++) out[i] = Math.round(vector[i]! * scale);
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * SimHash codes for the coarse vector stage: bit j is the sign of the vector's projection onto
 * a fixed random ±1 hyperplane. The fraction of differing bits estimates the angle between two
 * vectors (Charikar 2002), so a Hamming scan over 128-byte codes finds the candidates that the
 * full float vectors then re-rank. Plain sign bits of the vector itself work poorly here: hashed
 * feature vectors are sparse-ish and the sign drops their magnitudes.
 */
const SIMHASH_BITS = 1024;
const SEED = 0x5eed_b17e;

const planesByDimension = new Map<number, Uint8Array>();

/**
 * The ±1 weights of the hyperplanes as bits, 8 input dimensions to a byte: byte (g, j) has bit k
 * set when plane j weighs dimension 8g + k with +1. The weights come from a fixed xorshift32
 * stream (dimension-major), so codes never change between runs or machines.
 */
function planes(dimension: number): Uint8Array {
  let p = planesByDimension.get(dimension);
  if (!p) {
    const groups = Math.ceil(dimension / 8);
    p = new Uint8Array(groups * SIMHASH_BITS);
    let s = SEED ^ dimension;
    for (let i = 0; i < dimension; i++) {
      const row = (i >> 3) * SIMHASH_BITS;
      const bit = 1 << (i & 7);
      for (let j = 0; j < SIMHASH_BITS; j++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        if (s & 1) p[row + j]! |= bit;
      }
    }
    planesByDimension.set(dimension, p);
  }
  return p;
}

/**
 * The code of one vector, as the bytes of a sqlite-vec `bit[1024]` column. Eight dimensions at a
 * time: a table of the 256 signed sums of those eight values, then one lookup per plane, so a
 * 384-dimension vector costs 48 x (256 + 1,024) additions instead of 384 x 1,024.
 */
function simhash(vector: Float32Array): Buffer {
  return codeOf(simhashProjections(vector));
}

/** The signs of projections as a code: bit j (byte j / 8, bit j % 8) is set when projection j is positive. */
function codeOf(projections: Float32Array): Buffer {
  const code = Buffer.alloc(SIMHASH_BITS / 8);
  for (let j = 0; j < SIMHASH_BITS; j++) if (projections[j]! > 0) code[j >> 3]! |= 1 << (j & 7);
  return code;
}

/** The vector's projections onto the SIMHASH_BITS hyperplanes (their signs are its code). */
function simhashProjections(vector: Float32Array): Float32Array {
  const p = planes(vector.length);
  const acc = new Float32Array(SIMHASH_BITS);
  const sums = new Float32Array(256);
  for (let g = 0, base = 0; base < vector.length; g++, base += 8) {
    let all = 0;
    for (let k = 0; k < 8 && base + k < vector.length; k++) all -= vector[base + k]!;
    sums[0] = all;
    for (let b = 1; b < 256; b++) {
      const k = 31 - Math.clz32(b & -b); // the lowest set bit
      sums[b] = sums[b & (b - 1)]! + (base + k < vector.length ? 2 * vector[base + k]! : 0);
    }
    const row = g * SIMHASH_BITS;
    for (let j = 0; j < SIMHASH_BITS; j++) acc[j]! += sums[p[row + j]!]!;
  }
  return acc;
}

/**
 * The vector stage moves off vec0's bit KNN (its cost grows with k) to plain tables scanned with
 * sqlite-vec's distance functions (retrieval/vectors.ts). For every vector generation in the
 * file: the SimHash codes move from the vec0 table `chunk_codes_G` into `chunk_bits_G`, and the
 * int8 copies `chunk_q8_G` are made from the float vectors. Both are pure functions of what is
 * stored, so no embedder is needed (codes are computed from the floats if a generation lacks them).
 */
export const m0005PlainVectorTables: Migration = {
  version: 5,
  name: 'vector codes and int8 copies in plain tables',
  up(db) {
    const generations = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'chunk_vectors_[0-9]*'").pluck().all() as string[])
      .map((name) => Number(name.slice('chunk_vectors_'.length)))
      .filter((g) => Number.isSafeInteger(g) && g > 0);
    for (const g of generations) {
      db.exec(`
        CREATE TABLE chunk_bits_${g} (chunk_id INTEGER PRIMARY KEY, code BLOB NOT NULL) STRICT;
        CREATE TABLE chunk_q8_${g} (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL) STRICT;
      `);
      const hasCodes = db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(`chunk_codes_${g}`) !== undefined;
      if (hasCodes) {
        db.exec(`INSERT INTO chunk_bits_${g} (chunk_id, code) SELECT chunk_id, code FROM chunk_codes_${g}; DROP TABLE chunk_codes_${g};`);
      }
      const page = db.prepare(`SELECT chunk_id, embedding FROM chunk_vectors_${g} WHERE chunk_id > ? ORDER BY chunk_id LIMIT ${BATCH}`);
      const insert = db.prepare(`INSERT INTO chunk_q8_${g} (chunk_id, vector) VALUES (?, ?)`);
      const insertCode = db.prepare(`INSERT INTO chunk_bits_${g} (chunk_id, code) VALUES (?, ?)`);
      for (let after = 0; ; ) {
        const rows = page.all(after) as { chunk_id: number; embedding: Buffer }[];
        if (rows.length === 0) break;
        for (const r of rows) {
          const e = r.embedding;
          const vector = new Float32Array(e.buffer.slice(e.byteOffset, e.byteOffset + e.byteLength));
          insert.run(r.chunk_id, quantizeInt8(vector));
          if (!hasCodes) insertCode.run(r.chunk_id, simhash(vector));
        }
        after = rows.at(-1)!.chunk_id;
      }
    }
  },
};
