import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { writeTenantMeta } from '../vault/tenant-meta.js';
import { readTenantSetting, registerTenantSetting } from '../vault/tenant-settings.js';

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
registerTenantSetting(POLICY_KEY, AgentPolicy);

export function readAgentPolicy(tenant: TenantHandle): AgentPolicy {
  return readTenantSetting(tenant, POLICY_KEY, AgentPolicy, DEFAULT_POLICY);
}

export function writeAgentPolicy(tenant: TenantHandle, input: unknown): AgentPolicy {
  const parsed = AgentPolicy.safeParse(input);
  if (!parsed.success) throw new BulkheadError('INPUT_INVALID', parsed.error.issues[0]?.message ?? 'invalid agent policy');
  writeTenantMeta(tenant, POLICY_KEY, JSON.stringify(parsed.data));
  return parsed.data;
}
