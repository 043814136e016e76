import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';

/** A tenant's policy for what may leave the process with its data. */
export const AgentPolicy = z
  .object({
    /** Only loopback model endpoints (127.0.0.0/8, ::1, localhost) may receive this tenant's context. */
    localModelsOnly: z.boolean(),
  })
  .strict();
export type AgentPolicy = z.infer<typeof AgentPolicy>;

const POLICY_KEY = 'agent.policy';
const DEFAULT_POLICY: AgentPolicy = { localModelsOnly: false };

export function readAgentPolicy(tenant: TenantHandle): AgentPolicy {
  const raw = readTenantMeta(tenant, POLICY_KEY);
  if (raw === undefined) return DEFAULT_POLICY;
  const parsed = AgentPolicy.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new BulkheadError('TENANT_CORRUPT', 'the agent policy of this tenant is unreadable');
  return parsed.data;
}

export function writeAgentPolicy(tenant: TenantHandle, input: unknown): AgentPolicy {
  const parsed = AgentPolicy.safeParse(input);
  if (!parsed.success) throw new BulkheadError('INPUT_INVALID', parsed.error.issues[0]?.message ?? 'invalid agent policy');
  writeTenantMeta(tenant, POLICY_KEY, JSON.stringify(parsed.data));
  return parsed.data;
}
