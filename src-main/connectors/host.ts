import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { tenantEgress } from '../egress/egress.js';
import { tenantMcpHttpTransport } from '../egress/mcp-http.js';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';
import type { Connector, ToolRecord } from './config.js';
import { planLaunch, type SandboxKind } from './sandbox.js';
import { getConnector, listConnectors, recordDeclaredTools } from './store.js';
import { GroupTransport } from './transport.js';

// The running connectors of one open tenant. A server starts when first needed and is stopped
// (its whole process group) when the tenant's handle closes: a switch, a lock, or the app quitting
// (transport.ts). Nothing here is shared between handles; a closed handle gets no host at all.

export interface CallResult {
  isError: boolean;
  content: unknown[];
  structuredContent?: unknown;
}

interface Live {
  client: Client;
  transport: Transport;
  sandbox: SandboxKind | 'egress';
}

const VERSION = '0.1.0';

export class ConnectorHost {
  readonly #tenant: TenantHandle;
  readonly #live = new Map<string, Promise<Live>>();
  readonly #transports = new Set<Transport>();
  #closed = false;

  constructor(tenant: TenantHandle) {
    this.#tenant = tenant;
  }

  /** The data folder this tenant's file lives in (tenants/<id>.bulkhead), for the connectors' work folders. */
  #dataDir(): string {
    const file = this.#tenant.db.name;
    return this.#tenant.db.memory ? os.tmpdir() : path.dirname(path.dirname(file));
  }

  /** The connector's own folder, the one place its sandbox can write; named by random ids only. */
  workDir(connector: Connector): string {
    const dir = path.join(this.#dataDir(), 'connectors', this.#tenant.id, connector.id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  #transport(connector: Connector): { transport: Transport; sandbox: SandboxKind | 'egress' } {
    const t = connector.target;
    if (t.kind === 'http') {
      return { transport: tenantMcpHttpTransport(this.#tenant, t.url, t.headers), sandbox: 'egress' };
    }
    if (t.network && tenantEgress(this.#tenant, 'connector').localOnly) {
      // Its own network namespace would be a way out around the tenant's egress policy.
      throw new BulkheadError('MODEL_NOT_ALLOWED', `connector "${connector.name}" has network access, and this tenant allows local endpoints only`);
    }
    const spec = planLaunch(t, connector.limits, this.workDir(connector), this.#dataDir());
    return { transport: new GroupTransport(spec, connector.limits), sandbox: spec.sandbox };
  }

  async #start(connector: Connector): Promise<Live> {
    if (connector.target.kind === 'http') await tenantEgress(this.#tenant, 'connector').check(connector.target.url);
    const { transport, sandbox } = this.#transport(connector);
    this.#transports.add(transport);
    const client = new Client({ name: 'bulkhead', version: VERSION }, { capabilities: {} });
    client.onclose = () => this.#live.delete(connector.id);
    try {
      await client.connect(transport, { timeout: connector.limits.timeoutMs });
    } catch (err) {
      await transport.close().catch(() => undefined);
      this.#transports.delete(transport);
      throw unavailable(connector, transport, err);
    }
    if (this.#closed || !this.#tenant.isOpen) {
      await transport.close();
      throw new BulkheadError('TENANT_CLOSED', 'the tenant was closed while its connector started');
    }
    return { client, transport, sandbox };
  }

  #get(connector: Connector): Promise<Live> {
    if (this.#closed) throw new BulkheadError('TENANT_CLOSED', 'this tenant is closed');
    let p = this.#live.get(connector.id);
    if (!p) {
      p = this.#start(connector);
      this.#live.set(connector.id, p);
      p.catch(() => this.#live.delete(connector.id));
    }
    return p;
  }

  /** Starts the connector if needed, lists its tools and records them (new ones off). */
  async discover(ref: string, signal?: AbortSignal): Promise<{ connector: Connector; tools: ToolRecord[]; sandbox: SandboxKind | 'egress' }> {
    const connector = getConnector(this.#tenant, ref);
    const live = await this.#get(connector);
    let listed;
    try {
      listed = await live.client.listTools(undefined, { timeout: connector.limits.timeoutMs, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw unavailable(connector, live.transport, err);
    }
    if (!this.#tenant.isOpen) throw new BulkheadError('TENANT_CLOSED', 'this tenant is closed');
    const tools = recordDeclaredTools(
      this.#tenant,
      connector.id,
      listed.tools.map((t) => ({
        name: t.name,
        description: t.description,
        inputSchema: t.inputSchema as Record<string, unknown>,
        annotations: t.annotations,
      })),
    );
    return { connector, tools, sandbox: live.sandbox };
  }

  /** Calls one tool; the caller checked the policy. The declaration is listed again first when the server is new. */
  async call(connector: Connector, tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallResult> {
    const fresh = !this.#live.has(connector.id);
    const live = await this.#get(connector);
    if (fresh) {
      // A server that started just now could declare something else under an allowed name.
      const { tools } = await this.discover(connector.id, signal);
      const record = tools.find((t) => t.name === tool);
      if (!record?.allowed)
        throw new BulkheadError('CONNECTOR_UNAVAILABLE', `the tool's declaration changed since it was allowed; it is off until the user allows it again`);
    }
    try {
      const r = await live.client.callTool({ name: tool, arguments: args }, undefined, { timeout: connector.limits.timeoutMs, ...(signal ? { signal } : {}) });
      return {
        isError: r.isError === true,
        content: Array.isArray(r.content) ? r.content : [],
        ...(r.structuredContent !== undefined ? { structuredContent: r.structuredContent } : {}),
      };
    } catch (err) {
      if (signal?.aborted) throw new BulkheadError('CANCELLED', 'the tool call was cancelled', { cause: err });
      throw unavailable(connector, live.transport, err);
    }
  }

  idOf(ref: string): string {
    return getConnector(this.#tenant, ref).id;
  }

  running(connectorId: string): boolean {
    return this.#live.has(connectorId);
  }

  /** Process ids of this tenant's running stdio servers (their groups). */
  pids(): number[] {
    return [...this.#transports].flatMap((t) => (t instanceof GroupTransport && t.pid !== null && t.stopReason === null ? [t.pid] : []));
  }

  async stop(connectorId: string): Promise<void> {
    const p = this.#live.get(connectorId);
    this.#live.delete(connectorId);
    const live = await p?.catch(() => null);
    if (live) {
      await live.transport.close().catch(() => undefined);
      this.#transports.delete(live.transport);
    }
  }

  /** Synchronous: the handle is closing. Every stdio group is killed now; HTTP sessions are dropped. */
  stopAll(): void {
    this.#closed = true;
    for (const t of this.#transports) {
      if (t instanceof GroupTransport) t.killNow('closed');
      else void t.close().catch(() => undefined);
    }
    this.#transports.clear();
    this.#live.clear();
  }
}

function unavailable(connector: Connector, transport: Transport, err: unknown): BulkheadError {
  if (isBulkheadError(err)) return err;
  const stop = transport instanceof GroupTransport ? transport.stopReason : null;
  const why =
    stop === 'output_cap'
      ? 'it wrote more output than its cap and was stopped'
      : stop === 'message_cap'
        ? 'it sent a message larger than its cap and was stopped'
        : stop === 'spawn_failed'
          ? 'its command could not be started'
          : stop === 'exited'
            ? 'its process exited'
            : err instanceof Error && /timed out/i.test(err.message)
              ? 'it did not answer in time'
              : err instanceof Error && /MODEL_NOT_ALLOWED|local models only|not allowed/i.test(err.message)
                ? 'the tenant’s egress policy does not allow its address'
                : 'it failed';
  return new BulkheadError('CONNECTOR_UNAVAILABLE', `connector "${connector.name}": ${why}`, { cause: err });
}

/** Kept in the tenant's cache: the handle's close stops every server it started. */
const HOST = cacheKey<ConnectorHost>('connector host', (host) => host.stopAll());

/** The open tenant's connector host (one per handle, gone when the handle closes). */
export function connectorHost(tenant: TenantHandle): ConnectorHost {
  if (!tenant.isOpen) throw new BulkheadError('TENANT_CLOSED', 'this tenant is closed');
  return tenant.cache.get(HOST, () => new ConnectorHost(tenant));
}

/** The host if one was made for this handle (for views: no server is started to answer). */
export function existingHost(tenant: TenantHandle): ConnectorHost | undefined {
  return tenant.cache.get(HOST);
}

export { listConnectors };
