// Exact cosine top-k in plain JS over every stored float vector: the ground truth for recall.

export interface VectorSet {
  readonly dimension: number;
  /** chunk ids, in row order */
  readonly ids: Int32Array;
  /** row-major, ids.length x dimension */
  readonly data: Float32Array;
}

export interface Scored {
  readonly id: number;
  readonly sim: number;
}

export function row(set: VectorSet, i: number): Float32Array {
  return set.data.subarray(i * set.dimension, (i + 1) * set.dimension);
}

/** Cosine top-k (ties broken by the smaller id, as the product does). */
export function exactTopK(set: VectorSet, query: Float32Array, k: number, norms: Float32Array): Scored[] {
  const d = set.dimension;
  let qn = 0;
  for (let j = 0; j < d; j++) qn += query[j]! * query[j]!;
  qn = Math.sqrt(qn) || 1;
  const top: Scored[] = [];
  let floor = -Infinity;
  const data = set.data;
  for (let i = 0, n = set.ids.length; i < n; i++) {
    let dot = 0;
    const base = i * d;
    for (let j = 0; j < d; j++) dot += data[base + j]! * query[j]!;
    const sim = dot / ((norms[i]! || 1) * qn);
    if (top.length < k || sim > floor) {
      const id = set.ids[i]!;
      let at = top.length;
      while (at > 0 && (top[at - 1]!.sim < sim || (top[at - 1]!.sim === sim && top[at - 1]!.id > id))) at--;
      top.splice(at, 0, { id, sim });
      if (top.length > k) top.pop();
      floor = top.length === k ? top[k - 1]!.sim : -Infinity;
    }
  }
  return top;
}

export function norms(set: VectorSet): Float32Array {
  const out = new Float32Array(set.ids.length);
  for (let i = 0; i < out.length; i++) {
    const v = row(set, i);
    let s = 0;
    for (let j = 0; j < v.length; j++) s += v[j]! * v[j]!;
    out[i] = Math.sqrt(s);
  }
  return out;
}
