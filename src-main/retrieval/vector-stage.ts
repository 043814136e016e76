// The vector stage over data in memory: the SimHash codes pick candidates (code-set.ts), their
// int8 copies rank them by cosine. Pure (no SQLite, no tenant handle), so that the main thread
// and the vector worker (vector-worker-thread.ts) run the very same code and give the same hits.
import type { CodeSet } from '../index/code-set.js';
import { quantizeInt8 } from '../index/quantize.js';
import type { RankedHit } from './search.js';
import { simhashProjections } from '../index/simhash.js';
import { align, kernelsFor, LANES, MAIN_LANE, newMemory, type Kernels } from '../index/wasm/kernels.js';

/**
 * How many coarse candidates the int8 vectors re-rank, and how many Hamming neighbours the
 * asymmetric score picks them from (see CodeSet.nearest). At 100,000 generated chunks vector
 * recall@10 against exact float search is about 0.97 at 800 of 4,000 (bench:retrieval prints the
 * curve). The Hamming pass costs the same for any count; the rest grows with it.
 */
export function coarseCandidates(k: number): number {
  return Math.min(20_000, Math.max(4 * k, 800));
}

/** How many Hamming neighbours the asymmetric score chooses `candidates` from. */
export function hammingShortlist(candidates: number): number {
  return 5 * candidates;
}

/**
 * A tenant's int8 vector copies in memory (see int8-cache.ts), in shared memory where this
 * engine has it, so that the vector worker ranks over the same bytes (see newInt8Copies).
 */
export interface Int8Copies {
  /** Chunk ids, ascending. */
  readonly ids: Int32Array;
  /** ids.length × dimension int8 values, in the order of ids. */
  readonly vectors: Int8Array;
  /** Σ v² of each vector (an exact integer), in the order of ids. */
  readonly squares: Int32Array;
  readonly dimension: number;
  /** The memory `vectors` starts, with the dot kernel's scratch lanes after it; null: plain arrays, dot products in JS. */
  readonly memory: WebAssembly.Memory | null;
}

/** Rows handed to the dot kernel at a time: a lane holds their numbers and their dot products. */
const LANE_ROWS = 4096;

function int8Lane(n: number, dimension: number, lane: number): { query: number; rows: number; out: number; size: number } {
  const vectorsEnd = align(n * dimension, 16);
  const laneSize = align(dimension, 16) + LANE_ROWS * 8;
  const query = vectorsEnd + lane * laneSize;
  return { query, rows: query + align(dimension, 16), out: query + align(dimension, 16) + LANE_ROWS * 4, size: vectorsEnd + LANES * laneSize };
}

/** Room for the int8 copies of n vectors, zeroed, to fill in: vectors in a shared WebAssembly memory, ids and squares in shared buffers. */
export function newInt8Copies(n: number, dimension: number): Int8Copies {
  const memory = newMemory(int8Lane(n, dimension, 0).size);
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const buffer = (bytes: number): ArrayBuffer | SharedArrayBuffer => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return {
    ids: new Int32Array(buffer(n * 4)),
    vectors: new Int8Array(memory.buffer, 0, n * dimension),
    squares: new Int32Array(buffer(n * 4)),
    dimension,
    memory,
  };
}

/** This thread's dot kernel per copies' memory (instantiated once per memory and thread). */
const dotKernels = new WeakMap<WebAssembly.Memory, Kernels | null>();

function dotKernel(copies: Int8Copies): Kernels | null {
  const memory = copies.memory;
  if (!memory || copies.dimension % 16 !== 0 || copies.vectors.buffer !== memory.buffer || copies.vectors.byteOffset !== 0) return null;
  let k = dotKernels.get(memory);
  if (k === undefined) dotKernels.set(memory, (k = kernelsFor(memory)));
  return k;
}

/** Position of `id` in the copies' ascending ids, or -1. */
export function int8Row(copies: Int8Copies, id: number): number {
  const ids = copies.ids;
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Cosine distances of the candidates' int8 copies to the int8 query, as sqlite-vec's
 * vec_distance_cosine computes them for int8 vectors: the integer sums (exact in its float
 * accumulators at these sizes), the square roots and the division in double, the result rounded
 * to a float; a zero vector gives NaN there, which SQLite returns as NULL, and is left out here.
 * Candidates without a copy are left out, as the SQL re-rank finds no row for them.
 */
export function int8Distances(
  copies: Int8Copies,
  query: Uint8Array,
  candidates: readonly number[],
  opts: { lane?: number; simd?: boolean } = {},
): { chunkId: number; distance: number }[] {
  const dim = copies.dimension;
  const q = new Int8Array(query.buffer, query.byteOffset, query.byteLength);
  if (q.length !== dim) throw new RangeError(`the query has ${q.length} dimensions, the copies ${dim}`);
  let qq = 0;
  for (let i = 0; i < dim; i++) qq += q[i]! * q[i]!;
  const found: number[] = [];
  const rows: number[] = [];
  for (const chunkId of candidates) {
    const row = int8Row(copies, chunkId);
    if (row >= 0) {
      found.push(chunkId);
      rows.push(row);
    }
  }
  const dots = opts.simd === false ? null : kernelDots(copies, q, rows, opts.lane ?? MAIN_LANE);
  const v = copies.vectors;
  const out: { chunkId: number; distance: number }[] = [];
  for (let c = 0; c < rows.length; c++) {
    const row = rows[c]!;
    let dot: number;
    if (dots) dot = dots[c]!;
    else {
      const base = row * dim;
      dot = 0;
      for (let i = 0; i < dim; i++) dot += v[base + i]! * q[i]!;
    }
    const distance = Math.fround(1 - dot / (Math.sqrt(qq) * Math.sqrt(copies.squares[row]!)));
    if (!Number.isNaN(distance)) out.push({ chunkId: found[c]!, distance });
  }
  return out;
}

/** The rows' dot products with the query by the SIMD kernel, in `lane` of the copies' memory; null where there is no kernel. */
function kernelDots(copies: Int8Copies, query: Int8Array, rows: readonly number[], lane: number): Int32Array | null {
  const kernel = dotKernel(copies);
  if (!kernel) return null;
  const at = int8Lane(copies.ids.length, copies.dimension, lane);
  const buffer = copies.memory!.buffer;
  new Int8Array(buffer, at.query, query.length).set(query);
  const out = new Int32Array(rows.length);
  for (let from = 0; from < rows.length; from += LANE_ROWS) {
    const m = Math.min(LANE_ROWS, rows.length - from);
    new Int32Array(buffer, at.rows, m).set(rows.slice(from, from + m));
    kernel.dots(0, copies.dimension, at.rows, m, at.query, at.out);
    out.set(new Int32Array(buffer, at.out, m), from);
  }
  return out;
}

/** The k smallest cosine distances as ranked hits (score = cosine), ties by chunk id so runs are reproducible. */
export function nearestByDistance(scored: { chunkId: number; distance: number }[], k: number): RankedHit[] {
  scored.sort((a, b) => a.distance - b.distance || a.chunkId - b.chunkId);
  return scored.slice(0, k).map((r, i) => ({ chunkId: r.chunkId, rank: i + 1, score: 1 - r.distance }));
}

/** The coarse candidates of a (non-zero) query vector: the codes' pass of the vector stage. */
export function coarseStage(codes: CodeSet, vector: Float32Array, k: number): number[] {
  const count = coarseCandidates(k);
  return codes.nearest(simhashProjections(vector), count, hammingShortlist(count));
}

/** The whole vector stage in memory: the top k of a (non-zero) query vector by int8 cosine; `lane` is this thread's. */
export function rankInMemory(codes: CodeSet, copies: Int8Copies, vector: Float32Array, k: number, lane = MAIN_LANE): RankedHit[] {
  return nearestByDistance(int8Distances(copies, quantizeInt8(vector), coarseStage(codes, vector, k), { lane }), k);
}
