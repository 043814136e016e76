import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { appendAudit } from '../vault/audit-chain.js';
import type { TenantHandle } from '../vault/handle.js';
import { readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';

// The burst guard: more than `maxCalls` connector tool calls, or more than `maxRefusals` refused
// ones, within five minutes lock this tenant's tool path until the user reviews and unlocks it.
// Its state lives in the tenant's file, so the lock holds across restarts; lock and unlock are audited.

export const GUARD_WINDOW_MS = 5 * 60 * 1000;

export const GuardLimits = z
  .object({
    maxCalls: z.number().int().min(1).max(10_000),
    maxRefusals: z.number().int().min(1).max(10_000),
  })
  .strict();
export type GuardLimits = z.infer<typeof GuardLimits>;

const GuardState = z
  .object({
    limits: GuardLimits,
    calls: z.array(z.number()),
    refusals: z.array(z.number()),
    locked: z.object({ at: z.string(), reason: z.enum(['calls', 'refusals']), count: z.number().int() }).nullable(),
  })
  .strict();
export type GuardState = z.infer<typeof GuardState>;

export const DEFAULT_GUARD_LIMITS: GuardLimits = { maxCalls: 40, maxRefusals: 8 };
const KEY = 'connectors.guard';

export function readGuard(tenant: TenantHandle): GuardState {
  const raw = readTenantMeta(tenant, KEY);
  if (raw === undefined) return { limits: DEFAULT_GUARD_LIMITS, calls: [], refusals: [], locked: null };
  const parsed = GuardState.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new BulkheadError('TENANT_CORRUPT', 'the tool guard state of this tenant is unreadable');
  return parsed.data;
}

function write(tenant: TenantHandle, s: GuardState): void {
  writeTenantMeta(tenant, KEY, JSON.stringify(s));
}

export function toolsLocked(tenant: TenantHandle): GuardState['locked'] {
  return readGuard(tenant).locked;
}

/** Counts one call or refusal; returns true when this one locked the tool path. */
export function countToolEvent(tenant: TenantHandle, kind: 'call' | 'refusal', now = Date.now()): boolean {
  const s = readGuard(tenant);
  if (s.locked) return false;
  const keep = (xs: number[]): number[] => xs.filter((t) => now - t < GUARD_WINDOW_MS);
  const calls = keep(s.calls);
  const refusals = keep(s.refusals);
  (kind === 'call' ? calls : refusals).push(now);
  let locked: GuardState['locked'] = null;
  if (calls.length > s.limits.maxCalls) locked = { at: new Date(now).toISOString(), reason: 'calls', count: calls.length };
  else if (refusals.length > s.limits.maxRefusals) locked = { at: new Date(now).toISOString(), reason: 'refusals', count: refusals.length };
  write(tenant, { ...s, calls, refusals, locked });
  if (locked) appendAudit(tenant, 'connector.lock', { reason: locked.reason, count: locked.count, windowSeconds: GUARD_WINDOW_MS / 1000 });
  return locked !== null;
}

/** The user reviewed the calls and unlocks the tool path; the counts start again. */
export function unlockTools(tenant: TenantHandle): GuardState {
  const s = readGuard(tenant);
  const next = { ...s, calls: [], refusals: [], locked: null };
  write(tenant, next);
  appendAudit(tenant, 'connector.unlock', { wasLocked: s.locked !== null, reason: s.locked?.reason ?? null });
  return next;
}

export function setGuardLimits(tenant: TenantHandle, input: unknown): GuardState {
  const parsed = GuardLimits.safeParse(input);
  if (!parsed.success) throw new BulkheadError('INPUT_INVALID', parsed.error.issues[0]?.message ?? 'invalid guard limits');
  const next = { ...readGuard(tenant), limits: parsed.data };
  write(tenant, next);
  return next;
}
