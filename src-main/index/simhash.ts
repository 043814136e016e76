/**
 * SimHash codes for the coarse vector stage: bit j is the sign of the vector's projection onto
 * a fixed random ±1 hyperplane. The fraction of differing bits estimates the angle between two
 * vectors (Charikar 2002), so a Hamming scan over 128-byte codes finds the candidates that the
 * full float vectors then re-rank. Plain sign bits of the vector itself work poorly here: hashed
 * feature vectors are sparse-ish and the sign drops their magnitudes.
 */
export const SIMHASH_BITS = 1024;
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
export function simhash(vector: Float32Array): Buffer {
  return codeOf(simhashProjections(vector));
}

/** The signs of projections as a code: bit j (byte j / 8, bit j % 8) is set when projection j is positive. */
export function codeOf(projections: Float32Array): Buffer {
  const code = Buffer.alloc(SIMHASH_BITS / 8);
  for (let j = 0; j < SIMHASH_BITS; j++) if (projections[j]! > 0) code[j >> 3]! |= 1 << (j & 7);
  return code;
}

/** The vector's projections onto the SIMHASH_BITS hyperplanes (their signs are its code). */
export function simhashProjections(vector: Float32Array): Float32Array {
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
