// Which library reranking model re-orders a tenant's search candidates: stored in the tenant's
// file; none (off) unless the tenant chose one.
import { z } from 'zod';
import type { TenantHandle } from '../vault/handle.js';
import { deleteTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import { readTenantSetting, registerTenantSetting } from '../vault/tenant-settings.js';
import { libraryModelOfKind } from '../models/shared.js';

export const RerankerSetting = z
  .object({ model: z.string().min(1).max(160) })
  .strict()
  .nullable();
export type RerankerSetting = z.infer<typeof RerankerSetting>;

const KEY = 'knowledge.reranker';
registerTenantSetting(KEY, RerankerSetting);

/** The tenant's reranking model's name, or null (reranking off). */
export function readReranker(tenant: TenantHandle): string | null {
  return readTenantSetting(tenant, KEY, RerankerSetting, null)?.model ?? null;
}

/** Turns reranking on with a library reranking model (MODEL_NOT_FOUND, MODEL_WRONG_KIND), or off with null. */
export async function setReranker(tenant: TenantHandle, model: string | null): Promise<string | null> {
  if (model === null) {
    deleteTenantMeta(tenant, KEY);
    return null;
  }
  const m = await libraryModelOfKind(model, 'reranking');
  writeTenantMeta(tenant, KEY, JSON.stringify({ model: m.name }));
  return m.name;
}
