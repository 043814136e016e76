// A truncated singular value decomposition of a sparse matrix, by the randomized range finder of
// Halko, Martinsson and Tropp ("Finding structure with randomness", 2011, algorithms 4.3 and 5.1):
// multiply the matrix by a seeded Gaussian block, sharpen the block with a power iteration,
// orthonormalise it (Q), and decompose the small matrix B = Qᵀ A exactly through the eigenvectors
// of B Bᵀ (cyclic Jacobi). Only the right singular vectors are returned: the term space projects a
// text's term weights onto them. Everything runs in float64, in a fixed order of operations, from a
// fixed seed: the same matrix gives the same vectors on every run.
import { mulberry32 } from '../../src-shared/seeded-random.js';

/** A sparse matrix by rows (compressed sparse row): row i holds cols/values[rowStart[i] .. rowStart[i + 1]). */
export interface SparseRows {
  readonly rows: number;
  readonly cols: number;
  readonly rowStart: Int32Array;
  readonly colIndex: Int32Array;
  readonly values: Float64Array;
}

export interface TruncatedSvd {
  readonly rank: number;
  /** The largest singular values, descending. */
  readonly singularValues: Float64Array;
  /** The right singular vectors, row-major cols × rank: column c of row j is component j of vector c. */
  readonly right: Float64Array;
}

export interface SvdOptions {
  /** Extra columns of the random block beyond the rank (Halko et al. suggest 5 to 10). */
  readonly oversample?: number;
  /** Power iterations: each sharpens the gap between kept and dropped singular values. */
  readonly powerIterations?: number;
  readonly seed?: number;
  /** Called between the expensive steps; throws to stop (an abort). */
  readonly checkpoint?: () => void;
}

/** Standard normal numbers from a 32-bit seed (Box-Muller over mulberry32), the same on every machine. */
function gaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  // 1 - u is in (0, 1]: the logarithm stays finite.
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A · X for X row-major (A.cols × width): row-major A.rows × width. */
function times(a: SparseRows, x: Float64Array, width: number): Float64Array {
  const out = new Float64Array(a.rows * width);
  for (let i = 0; i < a.rows; i++) {
    const o = i * width;
    for (let p = a.rowStart[i]!; p < a.rowStart[i + 1]!; p++) {
      const v = a.values[p]!;
      const r = a.colIndex[p]! * width;
      for (let c = 0; c < width; c++) out[o + c]! += v * x[r + c]!;
    }
  }
  return out;
}

/** Aᵀ · Y for Y row-major (A.rows × width): row-major A.cols × width. */
function transposeTimes(a: SparseRows, y: Float64Array, width: number): Float64Array {
  const out = new Float64Array(a.cols * width);
  for (let i = 0; i < a.rows; i++) {
    const r = i * width;
    for (let p = a.rowStart[i]!; p < a.rowStart[i + 1]!; p++) {
      const v = a.values[p]!;
      const o = a.colIndex[p]! * width;
      for (let c = 0; c < width; c++) out[o + c]! += v * y[r + c]!;
    }
  }
  return out;
}

/**
 * Orthonormalises the columns of row-major Y (rows × width) in place, by modified Gram-Schmidt,
 * `passes` times (one pass loses orthogonality when the columns are nearly dependent, as a power
 * iteration makes them; a second restores it). A column that is (numerically) in the span of the
 * earlier ones becomes zero.
 */
export function orthonormalizeColumns(y: Float64Array, rows: number, width: number, passes = 2): void {
  const col = Array.from({ length: width }, (_, c) => {
    const v = new Float64Array(rows);
    for (let i = 0; i < rows; i++) v[i] = y[i * width + c]!;
    return v;
  });
  const original = col.map((v) => Math.sqrt(dot(v, v)));
  for (let pass = 0; pass < passes; pass++) {
    for (let c = 0; c < width; c++) {
      const v = col[c]!;
      for (let e = 0; e < c; e++) {
        const u = col[e]!;
        const d = dot(u, v);
        if (d !== 0) for (let i = 0; i < rows; i++) v[i]! -= d * u[i]!;
      }
      const norm = Math.sqrt(dot(v, v));
      if (norm <= 1e-10 * (original[c]! || 1)) v.fill(0);
      else for (let i = 0; i < rows; i++) v[i]! /= norm;
    }
  }
  for (let c = 0; c < width; c++) {
    const v = col[c]!;
    for (let i = 0; i < rows; i++) y[i * width + c] = v[i]!;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Eigenvalues and eigenvectors of a symmetric n × n matrix (row-major, overwritten) by cyclic
 * Jacobi rotations: accurate to rounding for any symmetric matrix, and simple. Returns the
 * eigenvalues descending with their vectors as the columns of a row-major n × n matrix.
 */
export function symmetricEigen(m: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += m[i]! * m[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! * m[p * n + q]!;
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!;
          const akq = m[k * n + q]!;
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!;
          const aqk = m[q * n + k]!;
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => m[b * n + b]! - m[a * n + a]! || a - b);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = m[from * n + from]!;
    for (let k = 0; k < n; k++) vectors[k * n + to] = v[k * n + from]!;
  });
  return { values, vectors };
}

/**
 * The `rank` largest singular values of A and their right singular vectors (fewer when A's rank
 * is lower: vectors of zero singular value are left zero).
 */
export function truncatedSvd(a: SparseRows, rank: number, opts: SvdOptions = {}): TruncatedSvd {
  if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`the rank must be a positive integer, got ${rank}`);
  const k = Math.min(rank, a.rows, a.cols);
  const width = Math.min(k + (opts.oversample ?? 10), a.rows, a.cols);
  const checkpoint = opts.checkpoint ?? (() => {});
  const normal = gaussian(opts.seed ?? 0x5eed);
  const omega = new Float64Array(a.cols * width);
  for (let i = 0; i < omega.length; i++) omega[i] = normal();
  // The range of A, sharpened: Y = (A Aᵀ)^q A Ω, re-orthonormalised after every product.
  // The steps between keep the block's columns apart (one pass is enough for that); the last,
  // which is Q, is orthonormal to rounding (two).
  const iterations = opts.powerIterations ?? 1;
  let y = times(a, omega, width);
  orthonormalizeColumns(y, a.rows, width, iterations === 0 ? 2 : 1);
  for (let q = 0; q < iterations; q++) {
    checkpoint();
    const z = transposeTimes(a, y, width);
    orthonormalizeColumns(z, a.cols, width, 1);
    checkpoint();
    y = times(a, z, width);
    orthonormalizeColumns(y, a.rows, width, q === iterations - 1 ? 2 : 1);
  }
  checkpoint();
  // Bᵀ = Aᵀ Q (cols × width); B Bᵀ = (Bᵀ)ᵀ Bᵀ is width × width.
  const bt = transposeTimes(a, y, width);
  const gram = new Float64Array(width * width);
  for (let j = 0; j < a.cols; j++) {
    const r = j * width;
    for (let c = 0; c < width; c++) {
      const x = bt[r + c]!;
      if (x === 0) continue;
      for (let d = c; d < width; d++) gram[c * width + d]! += x * bt[r + d]!;
    }
  }
  for (let c = 0; c < width; c++) for (let d = 0; d < c; d++) gram[c * width + d] = gram[d * width + c]!;
  checkpoint();
  const eigen = symmetricEigen(gram, width);
  // B = Ub S Vbᵀ, so Vb = Bᵀ Ub S⁻¹: the first k columns.
  const singularValues = new Float64Array(rank);
  const right = new Float64Array(a.cols * rank);
  const tiny = 1e-12 * Math.sqrt(Math.max(eigen.values[0]!, 0));
  for (let c = 0; c < k; c++) {
    const s = Math.sqrt(Math.max(eigen.values[c]!, 0));
    if (s <= tiny) break;
    singularValues[c] = s;
  }
  for (let j = 0; j < a.cols; j++) {
    const r = j * width;
    for (let c = 0; c < k; c++) {
      const s = singularValues[c]!;
      if (s === 0) continue;
      let sum = 0;
      for (let e = 0; e < width; e++) sum += bt[r + e]! * eigen.vectors[e * width + c]!;
      right[j * rank + c] = sum / s;
    }
  }
  return { rank, singularValues, right };
}
