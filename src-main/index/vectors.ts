import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { quantizeInt8 } from './quantize.js';
import { simhash } from './simhash.js';
import { readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { readTenantSetting, registerTenantSetting } from '../vault/tenant-settings.js';

/**
 * The tenant's active vector index: three plain tables per embedder generation, all keyed by
 * chunk id and searched with sqlite-vec's distance functions:
 *  - chunk_vectors_G: the float vectors as the embedder gave them (the truth: feedback, exact
 *    checks);
 *  - chunk_bits_G: their 1,024-bit SimHash codes, which a search scans in full (128 bytes a
 *    chunk: 13 MB at 100,000 chunks, cheap to decrypt even right after opening);
 *  - chunk_q8_G: int8 copies, which re-rank the best few thousand codes by cosine.
 * Why not a vec0 KNN: vec0's bit KNN slows with k (about 70 ms at k = 400 and 200 ms at k = 2,000
 * at 100,000 chunks, against 17 to 24 ms for a plain scan with ORDER BY ... LIMIT, whatever k),
 * and recall needs a k in the thousands. Search reads only the active generation, so vectors of
 * two embedders are never compared.
 */
export const VectorIndex = z
  .object({
    generation: z.number().int().positive(),
    embedderId: z.string().min(1),
    dimension: z.number().int().min(1).max(8192),
  })
  .strict();
export type VectorIndex = z.infer<typeof VectorIndex>;

const KEY = 'knowledge.vectors';
registerTenantSetting(KEY, VectorIndex);

/** Counts this process's vector writes per open tenant (in its cache), so in-memory copies know they are stale. */
const WRITES = cacheKey<{ count: number }>('vector write count');

export function vectorWriteCount(tenant: TenantHandle): number {
  return tenant.cache.get(WRITES)?.count ?? 0;
}

/**
 * What an in-memory copy of a generation's vectors (the codes, the int8 copies) was read at:
 * writes through this connection move vectorWriteCount, commits by another connection move
 * SQLite's data_version. A copy is current while its stamp equals the tenant's stamp of now.
 */
export interface VectorStamp {
  readonly generation: number;
  readonly dataVersion: number;
  readonly writeCount: number;
}

export function vectorStamp(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): VectorStamp {
  return { generation: index.generation, dataVersion: Number(tenant.db.pragma('data_version', { simple: true })), writeCount: vectorWriteCount(tenant) };
}

export function sameStamp(a: VectorStamp | undefined, b: VectorStamp): boolean {
  return a?.generation === b.generation && a.dataVersion === b.dataVersion && a.writeCount === b.writeCount;
}

function noteWrite(tenant: TenantHandle): void {
  tenant.cache.get(WRITES, () => ({ count: 0 })).count += 1;
}

/** The float vectors of a generation. Built from an integer only: always a safe identifier. */
export function vectorTable(index: Pick<VectorIndex, 'generation'>): string {
  return `chunk_vectors_${Math.trunc(index.generation)}`;
}

/** The SimHash codes of a generation (SIMHASH_BITS / 8 bytes each, for vec_bit()). */
export function codeTable(index: Pick<VectorIndex, 'generation'>): string {
  return `chunk_bits_${Math.trunc(index.generation)}`;
}

/** The int8 copies of a generation's vectors (for vec_int8()). */
export function int8Table(index: Pick<VectorIndex, 'generation'>): string {
  return `chunk_q8_${Math.trunc(index.generation)}`;
}

/** The generation's codes packed in parts for a fast first read (see code-pack.ts): derived, never the truth. */
export function codePackTable(index: Pick<VectorIndex, 'generation'>): string {
  return `chunk_codepack_${Math.trunc(index.generation)}`;
}

const WRITES_KEY = 'knowledge.vectors.writes';

/**
 * Counts every vector write to this tenant's file, by any connection (kept in the file, bumped in
 * the writer's transaction): a code pack records the count it was built at, and is stale when
 * the count moved on.
 */
export function storedVectorWrites(tenant: TenantHandle): number {
  return Number(readTenantMeta(tenant, WRITES_KEY) ?? 0);
}

function bumpStoredWrites(tenant: TenantHandle): void {
  tenant.db.prepare(`INSERT INTO tenant_meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`).run(WRITES_KEY);
}

/** Every table of a generation: the floats, the codes, the int8 copies. */
export function generationTables(index: Pick<VectorIndex, 'generation'>): readonly string[] {
  return [vectorTable(index), codeTable(index), int8Table(index)];
}

export function activeVectorIndex(tenant: TenantHandle): VectorIndex | null {
  return readTenantSetting<VectorIndex | null>(tenant, KEY, VectorIndex, null);
}

export function createVectorTable(tenant: TenantHandle, index: VectorIndex): void {
  tenant.db.exec(`
    CREATE TABLE IF NOT EXISTS ${vectorTable(index)} (chunk_id INTEGER PRIMARY KEY, embedding BLOB NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS ${codeTable(index)} (chunk_id INTEGER PRIMARY KEY, code BLOB NOT NULL) STRICT;
    CREATE TABLE IF NOT EXISTS ${int8Table(index)} (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL) STRICT;
  `);
}

export function dropVectorTables(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): void {
  noteWrite(tenant);
  tenant.db.exec([...generationTables(index), codePackTable(index)].map((t) => `DROP TABLE IF EXISTS ${t};`).join('\n'));
}

/** Makes `index` the active one (inside the caller's transaction) and drops the one it replaces. */
export function activateVectorIndex(tenant: TenantHandle, index: VectorIndex): void {
  const previous = activeVectorIndex(tenant);
  noteWrite(tenant);
  writeTenantMeta(tenant, KEY, JSON.stringify(index));
  if (previous && previous.generation !== index.generation) dropVectorTables(tenant, previous);
}

/** The active index for this embedder, created on first use; a different embedder needs a re-embed. */
export function vectorIndexFor(tenant: TenantHandle, embedderId: string, dimension: number): VectorIndex {
  const active = activeVectorIndex(tenant);
  if (active) {
    if (active.embedderId !== embedderId || active.dimension !== dimension) {
      throw new BulkheadError(
        'EMBEDDER_MISMATCH',
        `this tenant's vectors come from ${active.embedderId} (${active.dimension} dimensions), not ${embedderId}: re-embed the tenant first`,
      );
    }
    return active;
  }
  const index = { generation: 1, embedderId, dimension };
  tenant.db
    .transaction(() => {
      createVectorTable(tenant, index);
      activateVectorIndex(tenant, index);
    })
    .immediate();
  return index;
}

export function insertVectors(tenant: TenantHandle, index: VectorIndex, chunkIds: readonly number[], vectors: readonly Float32Array[]): void {
  const insert = tenant.db.prepare(`INSERT INTO ${vectorTable(index)} (chunk_id, embedding) VALUES (?, ?)`);
  const insertCode = tenant.db.prepare(`INSERT INTO ${codeTable(index)} (chunk_id, code) VALUES (?, ?)`);
  const insertInt8 = tenant.db.prepare(`INSERT INTO ${int8Table(index)} (chunk_id, vector) VALUES (?, ?)`);
  noteWrite(tenant);
  bumpStoredWrites(tenant);
  chunkIds.forEach((id, i) => {
    const v = vectors[i];
    if (!v || v.length !== index.dimension) {
      throw new BulkheadError('EMBEDDER_MISMATCH', `a vector of ${v?.length ?? 0} dimensions does not fit an index of ${index.dimension}`);
    }
    insert.run(id, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    insertCode.run(id, simhash(v));
    insertInt8.run(id, quantizeInt8(v));
  });
}

export function deleteVectors(tenant: TenantHandle, index: VectorIndex, chunkIds: readonly number[]): void {
  const del = tenant.db.prepare(`DELETE FROM ${vectorTable(index)} WHERE chunk_id = ?`);
  const delCode = tenant.db.prepare(`DELETE FROM ${codeTable(index)} WHERE chunk_id = ?`);
  const delInt8 = tenant.db.prepare(`DELETE FROM ${int8Table(index)} WHERE chunk_id = ?`);
  noteWrite(tenant);
  if (chunkIds.length > 0) bumpStoredWrites(tenant);
  for (const id of chunkIds) {
    del.run(id);
    delCode.run(id);
    delInt8.run(id);
  }
}

/** Drops the vectors of chunks that no longer exist (deleted while a re-embed was running). */
export function pruneVectors(tenant: TenantHandle, index: VectorIndex): void {
  const orphans = tenant.db
    .prepare(`SELECT chunk_id FROM ${vectorTable(index)} WHERE chunk_id NOT IN (SELECT id FROM chunks)`)
    .pluck()
    .all() as number[];
  deleteVectors(tenant, index, orphans);
}
