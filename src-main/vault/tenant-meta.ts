// The tenant's own key-value table (tenant_meta, tenant migration 1): settings, the active vector
// index, the agent policy, the code pack's record. Values are text; callers parse their own.
import type { TenantHandle } from './handle.js';

/** The value stored under `key`, or undefined. */
export function readTenantMeta(tenant: TenantHandle, key: string): string | undefined {
  return tenant.db.prepare('SELECT value FROM tenant_meta WHERE key = ?').pluck().get(key) as string | undefined;
}

/** Stores `value` under `key`, replacing what was there (inside the caller's transaction, if any). */
export function writeTenantMeta(tenant: TenantHandle, key: string, value: string): void {
  tenant.db.prepare('INSERT INTO tenant_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

export function deleteTenantMeta(tenant: TenantHandle, key: string): void {
  tenant.db.prepare('DELETE FROM tenant_meta WHERE key = ?').run(key);
}
