import crypto from 'node:crypto';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { appendAudit } from '../vault/audit-chain.js';
import type { TenantHandle } from '../vault/handle.js';
import { deleteTenantMeta, readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import { canonicalJson } from '../vault/canonical-json.js';
import { Connector, ConnectorInput, ToolRecord } from './config.js';

// The tenant's connectors and their tool allowlists, in its own tenant_meta (inside its encrypted
// file). Nothing here is kept anywhere else: another tenant's handle reads another file.

const LIST_KEY = 'connectors.list';
const toolsKey = (id: string): string => `connectors.tools.${id}`;
const MAX_CONNECTORS = 32;
const MAX_SCHEMA_CHARS = 16 * 1024;

export const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');

function read<T>(tenant: TenantHandle, key: string, schema: z.ZodType<T>, fallback: T): T {
  const raw = readTenantMeta(tenant, key);
  if (raw === undefined) return fallback;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BulkheadError('TENANT_CORRUPT', 'the connector settings of this tenant are unreadable');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BulkheadError('TENANT_CORRUPT', 'the connector settings of this tenant are unreadable');
  return parsed.data;
}

export function listConnectors(tenant: TenantHandle): Connector[] {
  return read(tenant, LIST_KEY, z.array(Connector), []);
}

/** By name or id; CONNECTOR_NOT_FOUND otherwise. */
export function getConnector(tenant: TenantHandle, ref: string): Connector {
  const c = listConnectors(tenant).find((x) => x.id === ref || x.name === ref);
  if (!c) throw new BulkheadError('CONNECTOR_NOT_FOUND', `this tenant has no connector "${ref.slice(0, 64)}"`);
  return c;
}

export function addConnector(tenant: TenantHandle, input: unknown): Connector {
  const parsed = ConnectorInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BulkheadError('INPUT_INVALID', `${issue?.path.join('.') || 'connector'}: ${issue?.message ?? 'invalid connector'}`);
  }
  const list = listConnectors(tenant);
  if (list.some((c) => c.name === parsed.data.name)) throw new BulkheadError('NAME_TAKEN', `this tenant already has a connector named "${parsed.data.name}"`);
  if (list.length >= MAX_CONNECTORS) throw new BulkheadError('INPUT_INVALID', `at most ${MAX_CONNECTORS} connectors per tenant`);
  const connector: Connector = { id: `c_${crypto.randomBytes(8).toString('hex')}`, ...parsed.data, createdAt: new Date().toISOString() };
  writeTenantMeta(tenant, LIST_KEY, JSON.stringify([...list, connector]));
  appendAudit(tenant, 'connector.add', { connectorId: connector.id, kind: connector.target.kind, configSha256: sha256(canonicalJson(connector.target)) });
  return connector;
}

export function removeConnector(tenant: TenantHandle, ref: string): Connector {
  const c = getConnector(tenant, ref);
  tenant.db.transaction(() => {
    writeTenantMeta(tenant, LIST_KEY, JSON.stringify(listConnectors(tenant).filter((x) => x.id !== c.id)));
    deleteTenantMeta(tenant, toolsKey(c.id));
  })();
  appendAudit(tenant, 'connector.remove', { connectorId: c.id });
  return c;
}

export function readTools(tenant: TenantHandle, connectorId: string): ToolRecord[] {
  return read(tenant, toolsKey(connectorId), z.array(ToolRecord), []);
}

export interface DeclaredTool {
  name: string;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  annotations?: { readOnlyHint?: boolean | undefined } | undefined;
}

/**
 * Records what the server declared: a new tool is off, a tool whose declaration changed since it
 * was allowed is turned off and marked changed (a server cannot swap what an allowed name does).
 */
export function recordDeclaredTools(tenant: TenantHandle, connectorId: string, declared: readonly DeclaredTool[]): ToolRecord[] {
  const before = new Map(readTools(tenant, connectorId).map((t) => [t.name, t]));
  // A schema this large is not one a model should be handed (nor a tenant file hold): such a tool is not offered.
  const sane = declared.filter((d) => JSON.stringify(d.inputSchema ?? {}).length <= MAX_SCHEMA_CHARS && d.name.length <= 128);
  const out: ToolRecord[] = sane.slice(0, 256).map((d) => {
    const readOnly = d.annotations?.readOnlyHint === true;
    const description = (d.description ?? '').slice(0, 4000);
    const hash = sha256(canonicalJson({ name: d.name, description, inputSchema: d.inputSchema as never, readOnly }));
    const old = before.get(d.name);
    if (!old) return { name: d.name, description, inputSchema: d.inputSchema, readOnly, sha256: hash, allowed: false, changed: false };
    if (old.sha256 === hash) return old;
    return { name: old.name, description, inputSchema: d.inputSchema, readOnly, sha256: hash, allowed: false, changed: old.allowed || old.changed };
  });
  writeTenantMeta(tenant, toolsKey(connectorId), JSON.stringify(out));
  return out;
}

/** Allows or denies one tool (or every tool with '*') of one connector of this tenant. */
export function setToolAllowed(tenant: TenantHandle, ref: string, tool: string, allowed: boolean): ToolRecord[] {
  const c = getConnector(tenant, ref);
  const tools = readTools(tenant, c.id);
  const hit = tools.filter((t) => tool === '*' || t.name === tool);
  if (hit.length === 0) {
    throw new BulkheadError(
      'INPUT_INVALID',
      tools.length === 0
        ? `connector "${c.name}" has no known tools yet: run \`connectors tools\` first`
        : `connector "${c.name}" has no tool "${tool.slice(0, 64)}"`,
    );
  }
  const next = tools.map((t) => (tool === '*' || t.name === tool ? { ...t, allowed, changed: false } : t));
  writeTenantMeta(tenant, toolsKey(c.id), JSON.stringify(next));
  for (const t of hit) appendAudit(tenant, 'connector.allow', { connectorId: c.id, toolSha256: sha256(t.name), declarationSha256: t.sha256, allowed });
  return next;
}
