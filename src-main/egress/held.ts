// Stored endpoints on hold. An endpoint the tenant did not get from this user under its policy (it
// broke the "local models only" policy when the tenant was opened, or it arrived in an imported
// bundle) is held: the egress refuses every request to its origin, whatever the policy says later,
// until the user confirms it. Kept in the tenant's own file (tenant_meta), so a hold follows the
// tenant and says nothing to any other.
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import { assertLoopbackEndpoint, endpointHost } from './endpoint.js';
import { readAgentPolicy } from './policy.js';

/** Which stored setting an endpoint comes from: the embedder, the chat model, later a connector. */
export type EndpointSlot = string;

export const HeldEndpoint = z
  .object({
    slot: z.string().min(1).max(200),
    url: z.string().max(2000),
    /** 'policy': it broke local-only when found; 'imported': it arrived in a bundle. */
    reason: z.enum(['policy', 'imported']),
    since: z.string().max(40),
  })
  .strict();
export type HeldEndpoint = z.infer<typeof HeldEndpoint>;

const HELD_KEY = 'egress.held';

/** `scheme://host:port`, the unit a hold covers; null for what is not a URL. */
export function endpointOrigin(url: string | URL): string | null {
  try {
    return new URL(String(url)).origin;
  } catch {
    return null;
  }
}

export function readHeld(tenant: TenantHandle): HeldEndpoint[] {
  const raw = readTenantMeta(tenant, HELD_KEY);
  if (raw === undefined) return [];
  let parsed;
  try {
    parsed = z.array(HeldEndpoint).max(1000).safeParse(JSON.parse(raw));
  } catch {
    parsed = null;
  }
  // Unreadable holds fail closed: the tenant's settings are damaged, nothing is sent until repaired.
  if (!parsed?.success) throw new BulkheadError('TENANT_CORRUPT', 'the held endpoints of this tenant are unreadable');
  return parsed.data;
}

function writeHeld(tenant: TenantHandle, held: HeldEndpoint[]): void {
  writeTenantMeta(tenant, HELD_KEY, JSON.stringify(held));
}

/** The hold that covers this URL's origin, if any. */
export function holdFor(tenant: TenantHandle, url: string | URL): HeldEndpoint | undefined {
  const origin = endpointOrigin(url);
  return readHeld(tenant).find((h) => endpointOrigin(h.url) === origin);
}

/** Holds the endpoint of `slot` (replacing an older hold of that slot). Returns true when it was new. */
export function holdEndpoint(tenant: TenantHandle, slot: EndpointSlot, url: string, reason: HeldEndpoint['reason']): boolean {
  const held = readHeld(tenant);
  if (held.some((h) => h.slot === slot && h.url === url)) return false;
  writeHeld(tenant, [...held.filter((h) => h.slot !== slot), { slot, url, reason, since: new Date().toISOString() }]);
  return true;
}

/** Drops holds whose slot no longer stores that endpoint (it was changed or removed). */
export function pruneHeld(tenant: TenantHandle, current: ReadonlyMap<EndpointSlot, string>): void {
  const held = readHeld(tenant);
  const kept = held.filter((h) => current.get(h.slot) === h.url);
  if (kept.length !== held.length) writeHeld(tenant, kept);
}

/**
 * The user confirms the held endpoints (of one slot, or all). Under "local models only" a
 * confirmation cannot override the policy: an endpoint that still breaks it stays held and the
 * call is refused with MODEL_NOT_ALLOWED (turn the policy off first, or set a loopback endpoint).
 */
export async function confirmHeld(tenant: TenantHandle, slot?: EndpointSlot): Promise<HeldEndpoint[]> {
  const chosen = readHeld(tenant).filter((h) => slot === undefined || h.slot === slot);
  if (readAgentPolicy(tenant).localModelsOnly) {
    for (const h of chosen) await assertLoopbackEndpoint(h.url, `${h.slot} endpoint`);
  }
  const confirmed = new Set(chosen.map((h) => `${h.slot}\n${h.url}`));
  writeHeld(
    tenant,
    readHeld(tenant).filter((h) => !confirmed.has(`${h.slot}\n${h.url}`)),
  );
  return chosen;
}

export function heldError(h: HeldEndpoint): BulkheadError {
  return new BulkheadError(
    'MODEL_NOT_ALLOWED',
    `the ${h.slot} endpoint "${endpointHost(h.url)}" of this tenant is on hold until you confirm it (${h.reason === 'imported' ? 'it came with an imported bundle' : 'it broke the "local models only" policy'}): bulkhead endpoints confirm --tenant NAME, or Settings`,
  );
}
