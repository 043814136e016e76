// The one way out. Every outbound request that carries anything of a tenant (chat, embeddings,
// model lists, connection tests, connectors) is made with the fetch this module hands out for
// that tenant's handle; test/architecture.test.ts forbids fetch, sockets and model clients
// anywhere else in src-main. The tenant's policy and its held endpoints are read again for every
// request (retries too), so a policy switched on, a hold, or a closed tenant applies at once.
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { assertLoopbackEndpoint, sendChecked } from './endpoint.js';
import { heldError, holdFor } from './held.js';
import { readAgentPolicy } from './policy.js';

/** What leaves, and why: named in errors and the ledger, never the content. */
export type EgressPurpose = 'chat' | 'embeddings' | 'model-list' | 'connection-test' | 'connector';

export interface TenantEgress {
  /** True when this tenant allows loopback endpoints only (read now). */
  readonly localOnly: boolean;
  /** A fetch bound to the tenant's policy: every request (retries too) is checked as it is made. */
  readonly fetch: typeof fetch;
  /**
   * Refuses (MODEL_NOT_ALLOWED) an endpoint the tenant's policy does not allow or that is held,
   * before anything is sent. The check setting an endpoint runs.
   */
  check(url: string | URL): Promise<void>;
}

const WHAT: Record<EgressPurpose, string> = {
  chat: 'model host',
  embeddings: 'embedding endpoint',
  'model-list': 'model host',
  'connection-test': 'endpoint',
  connector: 'connector endpoint',
};

function requestUrl(input: Parameters<typeof fetch>[0]): URL {
  try {
    return new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  } catch (err) {
    throw new BulkheadError('INPUT_INVALID', 'an outbound request needs an absolute http(s) URL', { cause: err });
  }
}

/** Refuses a closed tenant, a non-http(s) URL and a held origin; returns the policy to send under. */
function preflight(tenant: TenantHandle, url: URL): boolean {
  if (!tenant.isOpen) throw new BulkheadError('TENANT_CLOSED', 'this tenant is closed: nothing is sent for it');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BulkheadError('INPUT_INVALID', `endpoints are http or https, not ${url.protocol}`);
  const held = holdFor(tenant, url);
  if (held) throw heldError(held);
  return readAgentPolicy(tenant).localModelsOnly;
}

export function tenantEgress(tenant: TenantHandle, purpose: EgressPurpose): TenantEgress {
  const what = WHAT[purpose];
  return {
    get localOnly() {
      return readAgentPolicy(tenant).localModelsOnly;
    },
    fetch: async (input, init) => sendChecked(preflight(tenant, requestUrl(input)), what, input, init),
    check: async (url) => {
      const parsed = requestUrl(url);
      if (preflight(tenant, parsed)) await assertLoopbackEndpoint(parsed, what);
    },
  };
}
