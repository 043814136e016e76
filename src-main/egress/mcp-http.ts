import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TenantHandle } from '../vault/handle.js';
import { tenantEgress } from './egress.js';

/**
 * The MCP Streamable HTTP client for one of a tenant's connectors. Built here, in the one way out,
 * so that every byte it sends passes the tenant's egress (its local-only policy included) and no
 * redirect takes it anywhere the tenant's policy did not check.
 */
export function tenantMcpHttpTransport(tenant: TenantHandle, url: string, headers: Record<string, string>): StreamableHTTPClientTransport {
  const egress = tenantEgress(tenant, 'connector');
  return new StreamableHTTPClientTransport(new URL(url), { fetch: egress.fetch, requestInit: { headers, redirect: 'error' } });
}
