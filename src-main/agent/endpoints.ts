// The review of a tenant's stored endpoints against its policy, run when the tenant is opened or
// imported and before its "local models only" policy is turned off. An endpoint the tenant holds
// but this user never set under its policy (one that breaks local-only, or one that came in a
// bundle) is put on hold: the egress sends nothing to it until the user confirms it
// (`bulkhead endpoints confirm`, settings.confirmEndpoints, the console's Settings).
import { isBulkheadError } from '../../src-shared/errors.js';
import { assertLoopbackEndpoint, looksLoopback } from '../egress/endpoint.js';
import { confirmHeld, holdEndpoint, pruneHeld, readHeld, type HeldEndpoint } from '../egress/held.js';
import { readAgentPolicy, writeAgentPolicy } from '../egress/policy.js';
import { readEmbedderConfig } from '../embed/settings.js';
import type { TenantHandle } from '../vault/handle.js';
import { readTenantEndpoint } from './tenant-model.js';

export type { HeldEndpoint } from '../egress/held.js';

export const ENDPOINT_SLOTS = ['embedder', 'chat'] as const;
export type StoredSlot = (typeof ENDPOINT_SLOTS)[number];

/** The endpoints this tenant's settings name, by slot. */
export function storedEndpoints(tenant: TenantHandle): Map<StoredSlot, string> {
  const out = new Map<StoredSlot, string>();
  // An unreadable setting names no endpoint here; every use of it fails closed (TENANT_CORRUPT).
  const readable = <T>(read: () => T): T | null => {
    try {
      return read();
    } catch (err) {
      if (isBulkheadError(err, 'TENANT_CORRUPT')) return null;
      throw err;
    }
  };
  const embedder = readable(() => readEmbedderConfig(tenant));
  if (embedder && embedder.kind !== 'hash' && embedder.kind !== 'terms' && embedder.kind !== 'builtin') out.set('embedder', embedder.baseUrl);
  const model = readable(() => readTenantEndpoint(tenant));
  if (model) out.set('chat', model.baseUrl);
  return out;
}

async function breaksLocalOnly(url: string): Promise<boolean> {
  if (looksLoopback(url)) return false;
  try {
    await assertLoopbackEndpoint(url);
    return false;
  } catch (err) {
    if (isBulkheadError(err, 'MODEL_NOT_ALLOWED')) return true;
    throw err;
  }
}

/**
 * Holds every stored endpoint that breaks the tenant's policy now (under local-only: any whose
 * host is not loopback, by the same check the egress makes) and, for an imported tenant, every
 * one that is not a loopback literal or localhost, whatever the policy (the bundle's author chose
 * it). Drops holds of endpoints no longer stored. Returns the holds now in force.
 */
export async function reviewStoredEndpoints(tenant: TenantHandle, opts: { imported?: boolean } = {}): Promise<HeldEndpoint[]> {
  const stored = storedEndpoints(tenant);
  pruneHeld(tenant, stored);
  const localOnly = readAgentPolicy(tenant).localModelsOnly;
  for (const [slot, url] of stored) {
    if (opts.imported && !looksLoopback(url)) holdEndpoint(tenant, slot, url, 'imported');
    else if (localOnly && (await breaksLocalOnly(url))) holdEndpoint(tenant, slot, url, 'policy');
  }
  return readHeld(tenant);
}

/** The user's confirmation of the held endpoints (one slot or all); refused while the policy forbids one. */
export async function confirmStoredEndpoints(tenant: TenantHandle, slot?: StoredSlot): Promise<{ confirmed: HeldEndpoint[]; held: HeldEndpoint[] }> {
  await reviewStoredEndpoints(tenant);
  const confirmed = await confirmHeld(tenant, slot);
  return { confirmed, held: readHeld(tenant) };
}

/**
 * Changes the "local models only" policy. The stored endpoints are reviewed under the policy in
 * force before the change (so turning it off never wakes an endpoint that broke it: it stays held
 * until confirmed) and again after it (turning it on holds those that now break it).
 */
export async function setLocalModelsOnly(tenant: TenantHandle, on: boolean): Promise<{ localModelsOnly: boolean; held: HeldEndpoint[] }> {
  await reviewStoredEndpoints(tenant);
  const policy = writeAgentPolicy(tenant, { localModelsOnly: on });
  return { localModelsOnly: policy.localModelsOnly, held: await reviewStoredEndpoints(tenant) };
}
