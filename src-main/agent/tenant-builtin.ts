// A tenant's chat model from the library: the built-in runtime answers it on contexts of that
// tenant only (models/runtime.ts). The choice is stored in the tenant's file beside the endpoint
// settings it replaces (tenant-model.ts); the model file itself is not tenant data.
import { BulkheadError } from '../../src-shared/errors.js';
import { libraryModelOfKind, modelRuntime } from '../models/shared.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Vault } from '../vault/vault.js';
import { builtinModelConfig, type BuiltinChatOptions } from './builtin-provider.js';
import { ContextTokens, TimeoutMs, type ModelConfig } from './model-config.js';
import { isBuiltinChoice, migrateTenantModel, readTenantModel, tenantModelConfig, writeTenantModel, type TenantBuiltinModel } from './tenant-model.js';

export interface TenantBuiltinInput {
  model: string;
  contextTokens?: number | string | undefined;
  timeoutMs?: number | string | undefined;
}

function parseOrThrow<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } },
  v: unknown,
): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new BulkheadError('INPUT_INVALID', r.error.issues[0]?.message ?? 'invalid value');
  return r.data;
}

/** Makes a library chat model the tenant's chat model (checked before anything is stored; a stored key is dropped). */
export async function setTenantBuiltin(tenant: TenantHandle, input: TenantBuiltinInput): Promise<TenantBuiltinModel> {
  const m = await libraryModelOfKind(input.model, 'chat');
  const current = readTenantModel(tenant);
  const keep = isBuiltinChoice(current) ? current : null;
  const next: TenantBuiltinModel = {
    kind: 'builtin',
    model: m.name,
    ...(input.contextTokens !== undefined
      ? { contextTokens: parseOrThrow(ContextTokens, input.contextTokens) }
      : keep?.contextTokens
        ? { contextTokens: keep.contextTokens }
        : {}),
    ...(input.timeoutMs !== undefined ? { timeoutMs: parseOrThrow(TimeoutMs, input.timeoutMs) } : keep?.timeoutMs ? { timeoutMs: keep.timeoutMs } : {}),
  };
  writeTenantModel(tenant, next);
  return next;
}

/**
 * The chat model this tenant uses, whichever kind it chose, or null (retrieval only). A built-in
 * one is loaded here (load progress shows in the runtime's status) and bound to this tenant.
 */
export async function resolveTenantModel(
  vault: Vault,
  tenant: TenantHandle,
  opts: Pick<BuiltinChatOptions, 'conversationKey' | 'onQueued'> = {},
): Promise<ModelConfig | null> {
  migrateTenantModel(vault, tenant);
  const s = readTenantModel(tenant);
  if (!isBuiltinChoice(s)) return tenantModelConfig(tenant);
  return builtinModelConfig(modelRuntime(), tenant, s.model, {
    ...opts,
    ...(s.contextTokens ? { contextTokens: s.contextTokens } : {}),
    ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}),
  });
}

const UNLOADABLE = new Set(['MODEL_NOT_FOUND', 'MODEL_INVALID', 'MODEL_TOO_LARGE', 'MODEL_UNAVAILABLE']);

/**
 * resolveTenantModel for a question: a built-in model that cannot be loaded (its file left the
 * library, or is damaged) does not fail the question; it is answered from retrieval, naming why.
 */
export async function resolveModelForAsk(
  vault: Vault,
  tenant: TenantHandle,
  opts: Pick<BuiltinChatOptions, 'conversationKey' | 'onQueued'> = {},
): Promise<{ model: ModelConfig | null; modelUnavailable: BulkheadError | null }> {
  try {
    return { model: await resolveTenantModel(vault, tenant, opts), modelUnavailable: null };
  } catch (err) {
    if (err instanceof BulkheadError && UNLOADABLE.has(err.code)) return { model: null, modelUnavailable: err };
    throw err;
  }
}
