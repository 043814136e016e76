// A tenant's chat model: endpoint, model name and API key belong to the tenant, stored in its own
// file (tenant_meta, encrypted with the tenant's key, as the embedder settings are). The agent,
// the connection test and the console's Settings read only this: one client's key never serves
// another client. The vault-wide model.json (model-config.ts) may prefill a new tenant's settings
// and nothing more.
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { tenantEgress } from '../egress/egress.js';
import type { TenantHandle } from '../vault/handle.js';
import { deleteTenantMeta, readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import type { Vault } from '../vault/vault.js';
import {
  ApiKey,
  BaseUrl,
  ContextTokens,
  DEFAULT_CONTEXT_TOKENS,
  DEFAULT_TIMEOUT_MS,
  legacyModelFor,
  modelDefaults,
  ModelName,
  settleLegacyModel,
  TimeoutMs,
  type ModelConfig,
} from './model-config.js';

/** An OpenAI-compatible endpoint. Stored without a `kind`, as before the built-in choice existed. */
export const TenantEndpointModel = z
  .object({
    kind: z.literal('endpoint').optional(),
    baseUrl: BaseUrl,
    name: ModelName,
    apiKey: ApiKey.optional(),
    contextTokens: ContextTokens.optional(),
    timeoutMs: TimeoutMs.optional(),
  })
  .strict();
export type TenantEndpointModel = z.infer<typeof TenantEndpointModel>;

/** A chat model of the library, run by the built-in runtime on contexts of this tenant only. */
export const TenantBuiltinModel = z
  .object({
    kind: z.literal('builtin'),
    model: z.string().min(1).max(160),
    contextTokens: ContextTokens.optional(),
    timeoutMs: TimeoutMs.optional(),
  })
  .strict();
export type TenantBuiltinModel = z.infer<typeof TenantBuiltinModel>;

/** The tenant's chat model: an endpoint (the settings stored before the built-in choice read as one) or a library model. */
export const TenantModelSettings = z.union([TenantBuiltinModel, TenantEndpointModel]);
export type TenantModelSettings = z.infer<typeof TenantModelSettings>;

export function isBuiltinChoice(s: TenantModelSettings | null): s is TenantBuiltinModel {
  return s?.kind === 'builtin';
}

const MODEL_KEY = 'agent.model';

/** The tenant's own chat model settings, or null when it has none (answers from retrieval only). */
export function readTenantModel(tenant: TenantHandle): TenantModelSettings | null {
  const raw = readTenantMeta(tenant, MODEL_KEY);
  if (raw === undefined) return null;
  let parsed;
  try {
    parsed = TenantModelSettings.safeParse(JSON.parse(raw));
  } catch {
    parsed = null;
  }
  if (!parsed?.success) throw new BulkheadError('TENANT_CORRUPT', 'the chat model setting of this tenant is unreadable; set it again');
  return parsed.data;
}

/** Stores settings already checked (the prefill and the one-time copy of the vault-wide settings). */
export function writeTenantModel(tenant: TenantHandle, settings: TenantModelSettings): void {
  writeTenantMeta(tenant, MODEL_KEY, JSON.stringify(TenantModelSettings.parse(settings)));
}

/** The tenant's endpoint, or null when it has none (no model, or a built-in one). */
export function readTenantEndpoint(tenant: TenantHandle): TenantEndpointModel | null {
  const s = readTenantModel(tenant);
  return s && !isBuiltinChoice(s) ? s : null;
}

export function clearTenantModel(tenant: TenantHandle): void {
  deleteTenantMeta(tenant, MODEL_KEY);
}

export interface TenantModelInput {
  baseUrl: string;
  name: string;
  /** undefined keeps the stored key (when the endpoint stays the same), null or '' removes it. */
  apiKey?: string | null | undefined;
  contextTokens?: number | string | undefined;
  timeoutMs?: number | string | undefined;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BulkheadError('INPUT_INVALID', r.error.issues[0]?.message ?? 'invalid value');
  return r.data;
}

/**
 * Sets the tenant's chat model. An endpoint its policy does not allow (or one on hold) is refused
 * with MODEL_NOT_ALLOWED before anything is stored or sent. A kept key stays only with the same
 * endpoint origin: a key is never carried to another host unasked.
 */
export async function setTenantModel(tenant: TenantHandle, input: TenantModelInput): Promise<TenantEndpointModel> {
  const baseUrl = parseOrThrow(BaseUrl, input.baseUrl);
  const name = parseOrThrow(ModelName, input.name);
  await tenantEgress(tenant, 'chat').check(baseUrl);
  const current = readTenantEndpoint(tenant);
  let apiKey: string | undefined;
  if (input.apiKey === undefined) {
    if (current?.apiKey && new URL(current.baseUrl).origin === new URL(baseUrl).origin) apiKey = current.apiKey;
  } else if (input.apiKey !== null && input.apiKey.trim() !== '') {
    apiKey = parseOrThrow(ApiKey, input.apiKey);
    if (!/^[\x21-\x7e]+$/.test(apiKey)) throw new BulkheadError('INPUT_INVALID', 'the API key has characters an HTTP header cannot carry');
  }
  const next: TenantEndpointModel = {
    baseUrl,
    name,
    ...(apiKey ? { apiKey } : {}),
    ...(input.contextTokens !== undefined
      ? { contextTokens: parseOrThrow(ContextTokens, input.contextTokens) }
      : current?.contextTokens
        ? { contextTokens: current.contextTokens }
        : {}),
    ...(input.timeoutMs !== undefined ? { timeoutMs: parseOrThrow(TimeoutMs, input.timeoutMs) } : current?.timeoutMs ? { timeoutMs: current.timeoutMs } : {}),
  };
  writeTenantModel(tenant, next);
  return next;
}

/**
 * What the OpenAI-compatible provider needs for this tenant's endpoint, or null (no model, or a
 * built-in one: see tenant-builtin.ts, resolveTenantModel, for the config that covers both).
 */
export function tenantModelConfig(tenant: TenantHandle): ModelConfig | null {
  const s = readTenantEndpoint(tenant);
  if (!s) return null;
  return {
    baseUrl: s.baseUrl,
    name: s.name,
    apiKey: s.apiKey ?? null,
    contextTokens: s.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
    timeoutMs: s.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: 2,
  };
}

/**
 * A damaged or unreadable model.json must not stop a tenant from opening or being created: the
 * vault-wide file then copies and prefills nothing (`bulkhead config show` names the damage).
 */
function vaultFile<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof BulkheadError && (err.code === 'INPUT_INVALID' || err.code === 'IO_ERROR')) return fallback;
    throw err;
  }
}

/**
 * The one-time copy of the version-1 vault-wide settings (see model-config.ts) into a tenant that
 * existed when this version first ran and has no chat model of its own yet. Run at open and
 * before the tenant's model is used; does nothing for every other tenant.
 */
export function migrateTenantModel(vault: Vault, tenant: TenantHandle): void {
  const legacy = vaultFile(() => legacyModelFor(vault, tenant), null);
  if (!legacy) return;
  if (readTenantModel(tenant) === null) {
    const { apiKey, ...rest } = legacy;
    writeTenantModel(tenant, { ...rest, ...(apiKey ? { apiKey } : {}) });
  }
  settleLegacyModel(vault, tenant);
}

/** The endpoint chat model this tenant uses, from its own settings only (after its one-time migration). */
export function tenantModelFor(vault: Vault, tenant: TenantHandle): ModelConfig | null {
  migrateTenantModel(vault, tenant);
  return tenantModelConfig(tenant);
}

/**
 * A new tenant (just created, or imported): owed no copy of the version-1 settings, and prefilled
 * with the vault-wide defaults (endpoint, model name, limits; never a key) when it has no model.
 * An imported tenant keeps the model its bundle brought (held until confirmed if not loopback).
 */
export function prefillNewTenant(vault: Vault, tenant: TenantHandle, opts: { imported?: boolean } = {}): void {
  vaultFile(() => settleLegacyModel(vault, tenant), undefined);
  if (opts.imported) return;
  const defaults = vaultFile(() => modelDefaults(vault), null);
  if (defaults && readTenantModel(tenant) === null) writeTenantModel(tenant, defaults);
}
