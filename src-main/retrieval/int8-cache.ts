// The open tenant's int8 vector copies in memory, for the vector stage's re-rank.
//
// Why: the re-rank reads 800 int8 rows by id per search. In SQLite that costs about 2.4 ms warm
// (row lookups, not arithmetic), and far more when those pages have left the page cache: the
// 800 rows of one search lie on about 800 different pages of a 38 MB table (100,000 chunks), so a
// stream of different searches keeps decrypting pages. Held in memory, the same cosines take a
// fraction of a millisecond.
//
// The copies are read on the background reader (vault/background-reader.ts), in parts of
// LOAD_PART rows, never on the search path: until they are in memory (and whenever they are not
// current) the re-rank runs in SQLite and gives the same distances, computed here exactly as
// sqlite-vec computes them. The load starts on a search that found the codes already in memory
// (a warm search), not on the first search after opening, which needs the background reader for
// the codes; and it stops between parts once the tenant is closed, so a switch to another
// tenant waits for one part at most. Like the codes (code-cache.ts), the copies are kept in the
// open tenant's cache (zeroed when it closes) with the data_version and vector write count they were read at, and dropped from
// use when either moves. Small tenants keep none.
import type { TenantHandle } from '../vault/handle.js';
import { readInBackground } from '../vault/background-reader.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { int8Row, newInt8Copies, type Int8Copies } from './vector-stage.js';
import { int8Table, sameStamp, vectorStamp, type VectorIndex, type VectorStamp } from '../index/vectors.js';

/**
 * Rows per background read: 1.5 MB of int8 vectors at 384 dimensions, a few ms on the reader.
 * Small, so that the first search after switching tenants, whose codes the reader then reads,
 * waits for little if the previous tenant's load is still running.
 */
export const LOAD_PART = 4096;
/** Below this many vectors the SQLite re-rank costs little, and nothing is kept. */
export const IN_MEMORY_MIN = 5000;

interface Kept {
  readonly copies: Int8Copies;
  readonly stamp: VectorStamp;
}

/** The copies and their stamp; released by wiping: the ids, squares and the memory of the vectors zeroed. */
const KEPT = cacheKey<Kept>('int8 copies');
/** The stamp a load started (or finished, or failed) for: not started again for it. */
const LOADS = cacheKey<VectorStamp>('int8 load stamp');

/**
 * The tenant's current int8 copies if they are in memory, else null. With `startLoad`, a missing
 * or stale set of a tenant of at least IN_MEMORY_MIN vectors (`count`) starts loading in the
 * background for the tenant's stamp of now (a commit that lands during the load makes it stale).
 */
export function int8CopiesOf(
  tenant: TenantHandle,
  index: VectorIndex,
  count: number,
  startLoad: boolean,
  tuning: { minCount?: number; part?: number } = {},
): Int8Copies | null {
  const now = vectorStamp(tenant, index);
  const k = tenant.cache.get(KEPT);
  if (k && sameStamp(k.stamp, now)) return k.copies;
  if (startLoad && count >= (tuning.minCount ?? IN_MEMORY_MIN) && !sameStamp(tenant.cache.get(LOADS), now)) {
    tenant.cache.set(LOADS, now);
    void load(tenant, index, now, tuning.part ?? LOAD_PART).then(
      (copies) => {
        if (copies) tenant.cache.set(KEPT, { copies, stamp: now }); // closed meanwhile: released (zeroed) at once
      },
      () => undefined, // no reader, a failed read: the re-rank stays in SQLite
    );
  }
  return null;
}

/** Reads every int8 row of the generation in parts on the background reader, stopping once the tenant is closed. */
function load(tenant: TenantHandle, index: VectorIndex, at: VectorStamp, partRows: number): Promise<Int8Copies | null> {
  const module = new URL('./int8-cache.js', import.meta.url);
  return readAllParts(
    (after) => readInBackground<Int8Part>(tenant, { module, name: 'readInt8PartJob', args: [index.generation, after, partRows] }),
    partRows,
    index.dimension,
    () => tenant.isOpen && sameStamp(vectorStamp(tenant, index), at),
  );
}

/**
 * Reads the int8 copies on this thread, now, and keeps them as a background load would: about
 * 0.4 s at 100,000 chunks, during which this thread does nothing else (each part is read
 * synchronously). Searches never call it (they load in the background, see int8CopiesOf); it is
 * for tests and benchmarks that need the warm state at once, and for a handle the background
 * reader cannot open (the benchmark's unencrypted copy).
 */
export async function loadInt8CopiesNow(tenant: TenantHandle, index: VectorIndex): Promise<Int8Copies | null> {
  const at = vectorStamp(tenant, index);
  const copies = await readAllParts((after) => readInt8PartJob(tenant, index.generation, after, LOAD_PART), LOAD_PART, index.dimension);
  if (copies) tenant.cache.set(KEPT, { copies, stamp: at });
  return copies;
}

/**
 * Every int8 row of the generation, in id order, `partRows` at a time through `read(after)` (the
 * rows after chunk id `after`), until a short part; null if `current()` turns false between parts.
 */
async function readAllParts(
  read: (after: number) => Int8Part | Promise<Int8Part>,
  partRows: number,
  dimension: number,
  current: () => boolean = () => true,
): Promise<Int8Copies | null> {
  const parts: Int8Part[] = [];
  for (let after = 0; ; ) {
    if (!current()) return null;
    const part = await read(after);
    if (part.ids.length > 0) parts.push(part);
    if (part.ids.length < partRows) break;
    after = part.ids[part.ids.length - 1]!;
  }
  return joinParts(parts, dimension);
}

/** The parts in one set of copies, in shared memory so the vector worker ranks over these very bytes (vector-worker.ts). */
function joinParts(parts: readonly Int8Part[], dimension: number): Int8Copies | null {
  const n = parts.reduce((sum, p) => sum + p.ids.length, 0);
  const copies = newInt8Copies(n, dimension);
  let at = 0;
  for (const p of parts) {
    if (p.vectors.length !== p.ids.length * dimension) return null; // another dimension: not this index's rows
    copies.ids.set(p.ids, at);
    copies.vectors.set(p.vectors, at * dimension);
    copies.squares.set(p.squares, at);
    at += p.ids.length;
  }
  return copies;
}

export interface Int8Part {
  ids: Int32Array;
  vectors: Int8Array;
  squares: Int32Array;
}

/**
 * The background reader's job: up to `limit` int8 rows of the generation after chunk id `after`,
 * in id order, each array in a buffer of its own so it travels back without a copy.
 */
export function readInt8PartJob(tenant: TenantHandle, generation: number, after: number, limit: number): Int8Part {
  const rows = tenant.db
    .prepare(`SELECT chunk_id, vector FROM ${int8Table({ generation })} WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?`)
    .raw()
    .all(after, limit) as [number, Buffer][];
  const width = rows[0]?.[1].length ?? 0;
  const ids = new Int32Array(rows.length);
  const vectors = new Int8Array(rows.length * width);
  rows.forEach(([id, v], i) => {
    ids[i] = id;
    if (v.length === width) vectors.set(new Int8Array(v.buffer, v.byteOffset, v.length), i * width);
  });
  return { ids, vectors: rows.every(([, v]) => v.length === width) ? vectors : new Int8Array(0), squares: squaresOf(vectors, width) };
}

/** Σ v² per vector of `width` values (exact: 127² × width stays far below 2^31). */
export function squaresOf(vectors: Int8Array, width: number): Int32Array {
  const n = width > 0 ? Math.floor(vectors.length / width) : 0;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let i = r * width; i < (r + 1) * width; i++) sum += vectors[i]! * vectors[i]!;
    out[r] = sum;
  }
  return out;
}

/** The int8 copy of one chunk's vector (a view), or undefined. */
export function int8Copy(copies: Int8Copies, chunkId: number): Int8Array | undefined {
  const row = int8Row(copies, chunkId);
  return row < 0 ? undefined : copies.vectors.subarray(row * copies.dimension, (row + 1) * copies.dimension);
}
