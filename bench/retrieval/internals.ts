// The only place the benchmark touches vault internals (the architecture test allows
// bench/retrieval/ for these two names, in benchmark code only):
//  - mintTenantHandle: to run the product's own search functions on the unencrypted copy;
//  - tenantDataKey: to open a byte-for-byte copy of the tenant file once and decrypt it in place.
import type { Db } from '../../src-main/vault/sqlite.js';
import { mintTenantHandle, tenantDataKey, type TenantHandle } from '../../src-main/vault/handle.js';

export function benchHandle(id: string, name: string, db: Db): TenantHandle {
  return mintTenantHandle(id, name, db, Buffer.alloc(32));
}

/** A copy of the open tenant's data key (zero it after use). */
export function copyDataKey(tenant: TenantHandle): Buffer {
  return Buffer.from(tenantDataKey(tenant));
}
