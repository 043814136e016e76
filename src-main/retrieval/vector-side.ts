// The vector side of a search: the query vector's top k by cosine, in two stages (the SimHash
// codes pick candidates, the int8 copies rank them by cosine), behind one small interface,
// VectorStage, chosen in one place (vectorStage below):
//  - 'reference': everything read from SQLite for this one search (the codes from the per-chunk
//    table, the re-rank by sqlite-vec, the feedback vectors from their rows). Slow, plain, the
//    answer the accelerations must give;
//  - 'accelerated' (the product): the codes held in memory (code-cache.ts; read from the code
//    pack, code-pack.ts, partly on the background reader right after opening), the int8 copies in
//    memory once loaded (int8-cache.ts), and on a warm search the ranking on the vector worker
//    (vector-worker.ts) while the full-text expansion runs here. Same hits, bit for bit
//    (test/main/retrieval/same-answer.test.ts).
import type { TenantHandle } from '../vault/handle.js';
import type { Statement } from '../vault/sqlite.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { readCodeRows } from '../index/code-pack.js';
import { CodeSet } from '../index/code-set.js';
import { quantizeInt8 } from '../index/quantize.js';
import { int8Table, type VectorIndex } from '../index/vectors.js';
import { codeSetOf, codesInMemory, codesReady, prefetchCodes } from './code-cache.js';
import { feedbackVectors } from './feedback.js';
import { int8CopiesOf } from './int8-cache.js';
import type { RankedHit } from './search.js';
import { coarseStage, nearestByDistance, rankInMemory } from './vector-stage.js';
import { rankOnVectorWorker } from './vector-worker.js';

/** The most hits one retriever returns (the coarse stage may look at more). */
export const VEC_MAX_K = 4096;

function assertCount(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${n}`);
}

/** How one search computes its vector list. Every kind gives the same hits. */
export interface VectorStage {
  /** Before the full-text side: may start reading ahead (the codes, on the background reader). */
  begin(): void;
  /** The stored vectors of the feedback passages, L2-normalised (for Rocchio). */
  feedback(chunkIds: readonly number[]): Float32Array[];
  /** Once the query vector is final: may start ranking on the other core (null: it does not; resolves to null: it could not). */
  aside(vector: Float32Array, k: number): Promise<RankedHit[] | null> | null;
  /** The top k (when `aside` gave nothing). */
  rank(vector: Float32Array, k: number): Promise<RankedHit[]>;
}

export type VectorStageKind = 'reference' | 'accelerated';

/** The one place the vector side's way is chosen. */
export function vectorStage(tenant: TenantHandle, index: VectorIndex, kind: VectorStageKind = 'accelerated'): VectorStage {
  return kind === 'reference' ? referenceStage(tenant, index) : acceleratedStage(tenant, index);
}

function referenceStage(tenant: TenantHandle, index: VectorIndex): VectorStage {
  return {
    begin: () => undefined,
    feedback: (ids) => feedbackVectors(tenant, index, ids, { fromMemory: false }),
    aside: () => null,
    rank: (vector, k) => Promise.resolve(referenceVectorTopK(tenant, index, vector, k)),
  };
}

/**
 * Right after opening, most of the codes are read on the background reader while the full-text
 * side runs here (begin). Once they are in memory (a warm search), the int8 copies may load there
 * too, and the ranking runs on the vector worker while this thread runs the expansion.
 */
function acceleratedStage(tenant: TenantHandle, index: VectorIndex): VectorStage {
  const warm = codesInMemory(tenant, index);
  return {
    begin: () => prefetchCodes(tenant, index),
    feedback: (ids) => feedbackVectors(tenant, index, ids),
    aside: (vector, k) => (warm ? vectorTopKAside(tenant, index, vector, k) : null),
    rank: async (vector, k) => {
      await codesReady(tenant, index);
      return vectorTopK(tenant, index, vector, k, { loadInt8: warm });
    },
  };
}

/**
 * The reference vector top-k: the two stages with nothing kept, every byte read from SQLite for
 * this search (the per-chunk codes, in plain JS; the int8 re-rank by sqlite-vec). A zero vector gives [].
 */
export function referenceVectorTopK(tenant: TenantHandle, index: VectorIndex, vector: Float32Array, k: number): RankedHit[] {
  assertCount('k', k, VEC_MAX_K);
  if (!vector.some((x) => x !== 0)) return [];
  const { ids, codes } = readCodeRows(tenant, index);
  const candidates = coarseStage(CodeSet.from(ids, codes, { simd: false }), vector, k);
  return int8Rerank(tenant, index, quantizeInt8(vector), candidates, k);
}

/** Ids bound per re-rank statement: one prepared statement of this many parameters, reused. */
export const RERANK_BATCH = 800;
/** This connection's re-rank statements, per int8 table (they go with the connection when the tenant closes). */
const RERANK_STATEMENTS = cacheKey<Map<string, Statement>>('int8 re-rank statements', (m) => m.clear());

/**
 * The int8 cosine re-rank over `table` for up to RERANK_BATCH chunk ids. Parameters: the int8
 * query, then the ids (unused slots bound to NULL, which match nothing). Bound ids, not a JSON
 * list: at 2,000 candidates json_each cost as much as the cosine itself.
 */
export function int8RerankSql(table: string): string {
  const slots = Array.from({ length: RERANK_BATCH }, () => '?').join(',');
  return `SELECT chunk_id, vec_distance_cosine(vec_int8(vector), vec_int8(?)) FROM ${table} WHERE chunk_id IN (${slots})`;
}

/** The int8 re-rank by sqlite-vec over `candidates`, in batches: the top k by cosine, ties by chunk id. */
export function int8Rerank(tenant: TenantHandle, index: VectorIndex, query: Buffer, candidates: readonly number[], k: number): RankedHit[] {
  const statement = rerankStatement(tenant, index);
  const scored: { chunkId: number; distance: number }[] = [];
  for (let i = 0; i < candidates.length; i += RERANK_BATCH) {
    const batch: (number | null)[] = candidates.slice(i, i + RERANK_BATCH);
    while (batch.length < RERANK_BATCH) batch.push(null);
    for (const [chunkId, distance] of statement.raw().all(query, ...batch) as [number, number | null][]) {
      if (distance !== null) scored.push({ chunkId, distance });
    }
  }
  return nearestByDistance(scored, k);
}

/** This connection's re-rank statement for the generation's int8 table, prepared once. */
function rerankStatement(tenant: TenantHandle, index: VectorIndex): Statement {
  const byTable = tenant.cache.get(RERANK_STATEMENTS, () => new Map());
  const table = int8Table(index);
  let statement = byTable.get(table);
  if (!statement) byTable.set(table, (statement = tenant.db.prepare(int8RerankSql(table))));
  return statement;
}

/**
 * Vector top-k by cosine similarity, in two stages: the coarse stage over the SimHash codes (held
 * in memory for the open tenant, see code-cache.ts) picks `coarseCandidates(k)` candidates, then
 * the cosine of their int8 copies ranks them: in memory when the tenant's copies are loaded
 * (int8-cache.ts), else in SQLite with sqlite-vec, with the same distances. `loadInt8` lets this
 * search start loading the copies in the background (hybridRank allows it on warm searches
 * only). A zero vector (no features) gives [].
 */
export function vectorTopK(tenant: TenantHandle, index: VectorIndex, vector: Float32Array, k: number, opts: { loadInt8?: boolean } = {}): RankedHit[] {
  assertCount('k', k, VEC_MAX_K);
  if (!vector.some((x) => x !== 0)) return [];
  const codes = codeSetOf(tenant, index);
  const copies = int8CopiesOf(tenant, index, codes.ids.length, opts.loadInt8 ?? true);
  if (copies) return rankInMemory(codes, copies, vector, k);
  return int8Rerank(tenant, index, quantizeInt8(vector), coarseStage(codes, vector, k), k);
}

/**
 * vectorTopK on the vector worker (vector-worker.ts), when the tenant's codes and int8 copies are
 * in memory and current (a warm search): the same hits, computed while this thread goes on with
 * other work. Null when it cannot run there, or resolves to null if the worker stopped meanwhile
 * (it never rejects, so a search that fails before awaiting it leaves nothing unhandled); the
 * caller then calls vectorTopK.
 */
function vectorTopKAside(tenant: TenantHandle, index: VectorIndex, vector: Float32Array, k: number): Promise<RankedHit[] | null> | null {
  assertCount('k', k, VEC_MAX_K);
  if (!vector.some((x) => x !== 0) || !codesInMemory(tenant, index)) return null;
  const codes = codeSetOf(tenant, index);
  const copies = int8CopiesOf(tenant, index, codes.ids.length, false);
  return copies ? (rankOnVectorWorker(tenant, codes, copies, vector, k)?.catch(() => null) ?? null) : null;
}
