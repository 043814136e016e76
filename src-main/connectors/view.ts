import type { TenantHandle } from '../vault/handle.js';
import { describeTarget, type Connector, type ConnectorView } from './config.js';
import { readGuard, type GuardState } from './guard.js';
import { existingHost } from './host.js';
import { sandboxKind } from './sandbox.js';
import { listConnectors, readTools } from './store.js';

// What the CLI and the console show of a tenant's connectors: names of credentials, never values.

export function connectorView(tenant: TenantHandle, c: Connector): ConnectorView {
  const t = c.target;
  const sandbox: ConnectorView['sandbox'] =
    t.kind === 'http' ? 'egress' : sandboxKind() === 'bwrap' ? 'bwrap' : t.unsandboxed ? 'none (unsandboxed, by the tenant’s choice)' : 'none available';
  return {
    id: c.id,
    name: c.name,
    kind: t.kind,
    target: describeTarget(t),
    network: t.kind === 'http' ? true : t.network,
    sandbox,
    envNames: t.kind === 'stdio' ? Object.keys(t.env).sort() : [],
    headerNames: t.kind === 'http' ? Object.keys(t.headers).sort() : [],
    tools: readTools(tenant, c.id).map((x) => ({ name: x.name, allowed: x.allowed, readOnly: x.readOnly, changed: x.changed })),
    running: existingHost(tenant)?.running(c.id) ?? false,
  };
}

export interface ConnectorsOverview {
  connectors: ConnectorView[];
  guard: { locked: GuardState['locked']; maxCalls: number; maxRefusals: number; windowSeconds: number };
  /** Shown as a warning: stdio connectors cannot be sandboxed on this machine. */
  sandboxAvailable: boolean;
}

export function connectorsOverview(tenant: TenantHandle): ConnectorsOverview {
  const g = readGuard(tenant);
  return {
    connectors: listConnectors(tenant).map((c) => connectorView(tenant, c)),
    guard: { locked: g.locked, maxCalls: g.limits.maxCalls, maxRefusals: g.limits.maxRefusals, windowSeconds: 300 },
    sandboxAvailable: sandboxKind() === 'bwrap',
  };
}
