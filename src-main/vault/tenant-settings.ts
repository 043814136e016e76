// The tenant's settings: JSON values in tenant_meta, each with the schema its owner declares here.
// Declaring them in one place lets an import check every setting a bundle carries before the
// tenant joins the vault, and lets every reader answer a bad value with TENANT_CORRUPT.
import type { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from './handle.js';
import { readTenantMeta } from './tenant-meta.js';

const settings = new Map<string, z.ZodType>();

/** Declares the schema of a tenant setting (once per key, at module load of its owner). */
export function registerTenantSetting(key: string, schema: z.ZodType): void {
  settings.set(key, schema);
}

/** Every declared setting, for the import check. */
export function declaredTenantSettings(): ReadonlyMap<string, z.ZodType> {
  return settings;
}

/** Whether a stored value parses as JSON and fits its schema; never throws. */
export function settingParses(raw: string, schema: z.ZodType): boolean {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return false;
  }
  return schema.safeParse(value).success;
}

/** The stored value under `key` (declared with `registerTenantSetting`), or `fallback`; a bad value is TENANT_CORRUPT. */
export function readTenantSetting<T>(tenant: TenantHandle, key: string, schema: z.ZodType<T>, fallback: T): T {
  const raw = readTenantMeta(tenant, key);
  if (raw === undefined) return fallback;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BulkheadError('TENANT_CORRUPT', `tenant "${tenant.name}": its ${key} setting is unreadable`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BulkheadError('TENANT_CORRUPT', `tenant "${tenant.name}": its ${key} setting is unreadable`);
  return parsed.data;
}
