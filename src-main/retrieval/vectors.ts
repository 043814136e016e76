import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { SIMHASH_BITS, simhash } from './simhash.js';

/**
 * The tenant's active vector index, one pair of tables per embedder generation: the full float
 * vectors in a plain table (point lookups read one page each, cold or warm) and their SimHash
 * codes in a vec0 bit column (a Hamming scan over 128 bytes a chunk instead of decrypting every
 * float). Search reads only the active pair, so vectors of two embedders are never compared.
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

/** The float vectors of a generation. Built from an integer only: always a safe identifier. */
export function vectorTable(index: Pick<VectorIndex, 'generation'>): string {
  return `chunk_vectors_${Math.trunc(index.generation)}`;
}

/** The SimHash codes of a generation (vec0, bit[SIMHASH_BITS]). */
export function codeTable(index: Pick<VectorIndex, 'generation'>): string {
  return `chunk_codes_${Math.trunc(index.generation)}`;
}

export function activeVectorIndex(tenant: TenantHandle): VectorIndex | null {
  const raw = tenant.db.prepare('SELECT value FROM tenant_meta WHERE key = ?').pluck().get(KEY) as string | undefined;
  if (raw === undefined) return null;
  const parsed = VectorIndex.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new BulkheadError('TENANT_CORRUPT', `tenant "${tenant.name}": its vector index record is unreadable`);
  return parsed.data;
}

export function createVectorTable(tenant: TenantHandle, index: VectorIndex): void {
  tenant.db.exec(`
    CREATE TABLE IF NOT EXISTS ${vectorTable(index)} (chunk_id INTEGER PRIMARY KEY, embedding BLOB NOT NULL) STRICT;
    CREATE VIRTUAL TABLE IF NOT EXISTS ${codeTable(index)} USING vec0(chunk_id INTEGER PRIMARY KEY, code bit[${SIMHASH_BITS}]);
  `);
}

export function dropVectorTables(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): void {
  tenant.db.exec(`DROP TABLE IF EXISTS ${vectorTable(index)}; DROP TABLE IF EXISTS ${codeTable(index)};`);
}

/** Makes `index` the active one (inside the caller's transaction) and drops the one it replaces. */
export function activateVectorIndex(tenant: TenantHandle, index: VectorIndex): void {
  const previous = activeVectorIndex(tenant);
  tenant.db
    .prepare('INSERT INTO tenant_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    .run(KEY, JSON.stringify(index));
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
  tenant.db.transaction(() => {
    createVectorTable(tenant, index);
    activateVectorIndex(tenant, index);
  })();
  return index;
}

export function insertVectors(tenant: TenantHandle, index: VectorIndex, chunkIds: readonly number[], vectors: readonly Float32Array[]): void {
  const insert = tenant.db.prepare(`INSERT INTO ${vectorTable(index)} (chunk_id, embedding) VALUES (?, ?)`);
  const insertCode = tenant.db.prepare(`INSERT INTO ${codeTable(index)} (chunk_id, code) VALUES (?, vec_bit(?))`);
  chunkIds.forEach((id, i) => {
    const v = vectors[i];
    if (!v || v.length !== index.dimension) {
      throw new BulkheadError('EMBEDDER_MISMATCH', `a vector of ${v?.length ?? 0} dimensions does not fit an index of ${index.dimension}`);
    }
    // sqlite-vec wants an integer primary key: a JS number would bind as a float.
    insert.run(BigInt(id), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    insertCode.run(BigInt(id), simhash(v));
  });
}

export function deleteVectors(tenant: TenantHandle, index: VectorIndex, chunkIds: readonly number[]): void {
  const del = tenant.db.prepare(`DELETE FROM ${vectorTable(index)} WHERE chunk_id = ?`);
  const delCode = tenant.db.prepare(`DELETE FROM ${codeTable(index)} WHERE chunk_id = ?`);
  for (const id of chunkIds) {
    del.run(BigInt(id));
    delCode.run(BigInt(id));
  }
}

/** Drops the vectors of chunks that no longer exist (deleted while a re-embed was running). */
export function pruneVectors(tenant: TenantHandle, index: VectorIndex): void {
  const orphans = tenant.db.prepare(`SELECT chunk_id FROM ${vectorTable(index)} WHERE chunk_id NOT IN (SELECT id FROM chunks)`).pluck().all() as number[];
  deleteVectors(tenant, index, orphans);
}
