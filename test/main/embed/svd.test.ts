import { describe, expect, it } from 'vitest';
import { type SparseRows, symmetricEigen, truncatedSvd } from '../../../src-main/embed/svd.js';
import { mulberry32 } from '../../../src-shared/seeded-random.js';

function toSparse(dense: number[][]): SparseRows {
  const rowStart = [0];
  const colIndex: number[] = [];
  const values: number[] = [];
  for (const row of dense) {
    row.forEach((v, j) => {
      if (v !== 0) {
        colIndex.push(j);
        values.push(v);
      }
    });
    rowStart.push(colIndex.length);
  }
  return {
    rows: dense.length,
    cols: dense[0]!.length,
    rowStart: Int32Array.from(rowStart),
    colIndex: Int32Array.from(colIndex),
    values: Float64Array.from(values),
  };
}

/** Columns of a random matrix, orthonormalised (Gram-Schmidt): an exact basis to build known matrices from. */
function orthonormal(rows: number, cols: number, random: () => number): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < cols; c++) {
    let v = Array.from({ length: rows }, () => random() - 0.5);
    for (const u of out) {
      const d = u.reduce((s, x, i) => s + x * v[i]!, 0);
      v = v.map((x, i) => x - d * u[i]!);
    }
    const n = Math.hypot(...v);
    out.push(v.map((x) => x / n));
  }
  return out;
}

describe('symmetricEigen (cyclic Jacobi)', () => {
  it('returns orthonormal eigenvectors with A v = lambda v, eigenvalues descending', () => {
    const random = mulberry32(3);
    const n = 12;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = random() - 0.5;
    const copy = Float64Array.from(a);
    const { values, vectors } = symmetricEigen(a, n);
    for (let c = 1; c < n; c++) expect(values[c]!).toBeLessThanOrEqual(values[c - 1]!);
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += copy[i * n + k]! * vectors[k * n + c]!;
        expect(av).toBeCloseTo(values[c]! * vectors[i * n + c]!, 10);
      }
      for (let d = 0; d < n; d++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += vectors[k * n + c]! * vectors[k * n + d]!;
        expect(dot).toBeCloseTo(c === d ? 1 : 0, 10);
      }
    }
  });
});

describe('truncatedSvd (randomized range finder)', () => {
  it('recovers the singular values and right vectors of a matrix of known rank exactly', () => {
    const random = mulberry32(11);
    const rows = 60;
    const cols = 40;
    const u = orthonormal(rows, 5, random);
    const v = orthonormal(cols, 5, random);
    const s = [9, 5, 3, 2, 0.5];
    const dense = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => s.reduce((sum, sk, k) => sum + sk * u[k]![i]! * v[k]![j]!, 0)));
    const svd = truncatedSvd(toSparse(dense), 5, { oversample: 5 });
    s.forEach((sk, k) => expect(svd.singularValues[k]!).toBeCloseTo(sk, 8));
    // Each right vector is the true one, up to its sign.
    for (let k = 0; k < 5; k++) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += svd.right[j * 5 + k]! * v[k]![j]!;
      expect(Math.abs(dot)).toBeCloseTo(1, 8);
    }
  });

  it('on a sparse full-rank matrix, finds the top singular values an exact decomposition gives', () => {
    const random = mulberry32(5);
    const rows = 300;
    const cols = 80;
    const dense = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (random() < 0.08 ? random() : 0)));
    // Exact: the eigenvalues of Aᵀ A are the squared singular values.
    const gram = new Float64Array(cols * cols);
    for (const row of dense) for (let i = 0; i < cols; i++) if (row[i]) for (let j = 0; j < cols; j++) gram[i * cols + j]! += row[i]! * row[j]!;
    const exact = symmetricEigen(gram, cols).values.map(Math.sqrt);
    // A flat spectrum (random entries) is the range finder's worst case: its estimates are
    // projections, so never above the true values, and close to them at the top.
    const svd = truncatedSvd(toSparse(dense), 10, { powerIterations: 3 });
    for (let k = 0; k < 10; k++) {
      expect(svd.singularValues[k]!).toBeLessThanOrEqual(exact[k]! + 1e-9);
      expect(svd.singularValues[k]! / exact[k]!).toBeGreaterThan(0.96);
    }
    expect(svd.singularValues[0]! / exact[0]!).toBeGreaterThan(0.999);
  });

  it('is deterministic, and leaves vectors beyond the rank of the matrix zero', () => {
    const dense = [
      [1, 0, 1, 0],
      [0, 1, 0, 1],
      [1, 0, 1, 0],
    ];
    const a = truncatedSvd(toSparse(dense), 3);
    const b = truncatedSvd(toSparse(dense), 3);
    expect(Array.from(a.right)).toEqual(Array.from(b.right));
    expect(a.singularValues[0]!).toBeCloseTo(2, 10);
    expect(a.singularValues[1]!).toBeCloseTo(Math.SQRT2, 10);
    expect(a.singularValues[2]).toBe(0);
    for (let j = 0; j < 4; j++) expect(a.right[j * 3 + 2]).toBe(0);
    expect(() => truncatedSvd(toSparse(dense), 0)).toThrow(RangeError);
  });
});
