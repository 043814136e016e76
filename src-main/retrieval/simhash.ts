/**
 * SimHash codes for the coarse vector stage: bit j is the sign of the vector's projection onto
 * a fixed random ±1 hyperplane. The fraction of differing bits estimates the angle between two
 * vectors (Charikar 2002), so a Hamming scan over 128-byte codes finds the candidates that the
 * full float vectors then re-rank. Plain sign bits of the vector itself work poorly here: hashed
 * feature vectors are sparse-ish and the sign drops their magnitudes.
 */
export const SIMHASH_BITS = 1024;
const SEED = 0x5eed_b17e;

const planesByDimension = new Map<number, Float32Array>();

/** Row i holds the ±1 weights of input dimension i on every hyperplane (dimension x bits). */
function planes(dimension: number): Float32Array {
  let p = planesByDimension.get(dimension);
  if (!p) {
    p = new Float32Array(dimension * SIMHASH_BITS);
    let s = SEED ^ dimension; // xorshift32: fixed, so codes never change between runs or machines
    for (let i = 0; i < p.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      p[i] = s & 1 ? 1 : -1;
    }
    planesByDimension.set(dimension, p);
  }
  return p;
}

/** The code of one vector, as the bytes of a sqlite-vec `bit[1024]` column. */
export function simhash(vector: Float32Array): Buffer {
  const p = planes(vector.length);
  const acc = new Float32Array(SIMHASH_BITS);
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i]!;
    if (v === 0) continue;
    const row = i * SIMHASH_BITS;
    for (let j = 0; j < SIMHASH_BITS; j++) acc[j]! += v * p[row + j]!;
  }
  const code = Buffer.alloc(SIMHASH_BITS / 8);
  for (let j = 0; j < SIMHASH_BITS; j++) if (acc[j]! > 0) code[j >> 3]! |= 1 << (j & 7);
  return code;
}
