// The product tenant's SimHash codes, for the shared index's tenant 0. Read back from the tenant
// when its code table can be found (much faster than recomputing 100,000 codes in JS), checked
// against the product's own simhash() on a sample; otherwise computed with simhash().
import * as vectorsModule from '../../src-main/index/vectors.js';
import { simhash } from '../../src-main/index/simhash.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import { row, type VectorSet } from './exact.js';

export function productCodes(tenant: TenantHandle, index: vectorsModule.VectorIndex, vectors: VectorSet): { codes: Buffer[]; how: string } {
  // Looked up by name so the benchmark still compiles if the vector internals change again.
  const codeTable = (vectorsModule as Record<string, unknown>)['codeTable'];
  if (typeof codeTable === 'function') {
    try {
      const table = String((codeTable as (i: vectorsModule.VectorIndex) => string)(index));
      const get = tenant.db.prepare(`SELECT chunk_id, code FROM ${table} ORDER BY chunk_id`);
      const rows = get.all() as { chunk_id: number; code: Buffer }[];
      const sameIds = rows.length === vectors.ids.length && rows.every((r, i) => r.chunk_id === vectors.ids[i]);
      const step = Math.max(1, Math.floor(rows.length / 25));
      let agrees = sameIds;
      for (let i = 0; agrees && i < rows.length; i += step) agrees = simhash(row(vectors, i)).equals(rows[i]!.code);
      if (agrees) return { codes: rows.map((r) => Buffer.from(r.code)), how: `read from ${table}, checked against simhash()` };
    } catch {
      // fall through: compute them
    }
  }
  const codes: Buffer[] = [];
  for (let i = 0; i < vectors.ids.length; i++) codes.push(simhash(row(vectors, i)));
  return { codes, how: 'computed with simhash()' };
}
