// The one way out. Every outbound request that carries anything of a tenant (chat, embeddings,
// model lists, connection tests, connectors) is made with the fetch this module hands out for
// that tenant's handle, so the tenant's policy applies where the request is made.
import type { TenantHandle } from '../vault/handle.js';
import { assertLoopbackEndpoint, policyFetch } from './endpoint.js';
import { readAgentPolicy } from './policy.js';

/** What leaves, and why: named in errors and the ledger, never the content. */
export type EgressPurpose = 'chat' | 'embeddings' | 'model-list' | 'connection-test' | 'connector';

export interface TenantEgress {
  /** True when this tenant allows loopback endpoints only. */
  readonly localOnly: boolean;
  /** A fetch bound to the tenant's policy: every request (retries too) is checked as it is made. */
  readonly fetch: typeof fetch;
  /** Refuses (MODEL_NOT_ALLOWED) an endpoint the tenant's policy does not allow, before anything is sent. */
  check(url: string | URL): Promise<void>;
}

export function tenantEgress(tenant: TenantHandle, _purpose: EgressPurpose): TenantEgress {
  const { localModelsOnly } = readAgentPolicy(tenant);
  return {
    localOnly: localModelsOnly,
    fetch: policyFetch(localModelsOnly),
    check: async (url) => {
      if (localModelsOnly) await assertLoopbackEndpoint(url);
    },
  };
}
