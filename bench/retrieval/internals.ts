// The only place the benchmark touches vault internals (the architecture test allows
// bench/retrieval/ for these two names, in benchmark code only):
//  - mintTenantHandle: to run the product's own search functions on the unencrypted copy;
//  - tenantDataKey: to open a byte-for-byte copy of the tenant file once and decrypt it in place.
import type { Db } from '../../src-main/vault/sqlite.js';
import { mintTenantHandle, tenantDataKey, type AuditBinding, type TenantHandle } from '../../src-main/vault/handle.js';

/** A handle over a connection the benchmark opened (a decrypted copy, the shared index): its audit chain is kept nowhere. */
export function benchHandle(id: string, name: string, db: Db): TenantHandle {
  let head: ReturnType<AuditBinding['head']> = null;
  const audit: AuditBinding = { key: Buffer.alloc(32), head: () => head, advance: (h) => (head = h) };
  return mintTenantHandle(id, name, db, Buffer.alloc(32), audit);
}

/** A copy of the open tenant's data key (zero it after use). */
export function copyDataKey(tenant: TenantHandle): Buffer {
  return Buffer.from(tenantDataKey(tenant));
}
