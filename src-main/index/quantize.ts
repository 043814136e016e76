/**
 * Int8 copies of the float vectors for the re-rank stage: each vector scaled so that its largest
 * component is ±127. Cosine similarity ignores a vector's scale, so one scale per vector costs
 * nothing at search time, and a 384-dimension vector takes 384 bytes instead of 1,536: ten to a
 * page, so the few thousand rows a search re-ranks stay in SQLite's page cache.
 */
export function quantizeInt8(vector: Float32Array): Buffer {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i]!));
  const out = new Int8Array(vector.length);
  if (max > 0) {
    const scale = 127 / max;
    for (let i = 0; i < vector.length; i++) out[i] = Math.round(vector[i]! * scale);
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}
