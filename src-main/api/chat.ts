import type { ChatAnswer, ChatEvent, Settings } from '../../src-shared/contract.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { askAgent } from '../agent/agent.js';
import { isBuiltinChoice, readTenantModel, setTenantModel, tenantModelFor } from '../agent/tenant-model.js';
import { resolveModelForAsk } from '../agent/tenant-builtin.js';
import { modelRuntime } from '../models/shared.js';
import { readAgentPolicy } from '../egress/policy.js';
import { assertLoopbackEndpoint } from '../egress/endpoint.js';
import { setLocalModelsOnly } from '../agent/endpoints.js';
import { testConnection } from '../agent/provider.js';
import type { TenantHandle } from '../vault/handle.js';
import type { ConsoleSession } from './session.js';

const EXCERPT_CHARS = 240;

/**
 * One question to the agent in the open tenant: tokens stream as events, a write the model asks
 * for waits for the user's answer, and a stop, a switch or a lock cancels the call.
 */
export async function runChat(
  s: ConsoleSession,
  input: { question: string; conversationId: number | null },
  emit: (e: ChatEvent) => void,
  stop: AbortSignal,
): Promise<ChatAnswer> {
  const { handle, signal: scope } = s.scope();
  const signal = AbortSignal.any([scope, stop]);
  // A built-in model answers a conversation on its own sequence (its prefix reused within it); a new one starts empty.
  const { model, modelUnavailable } = await resolveModelForAsk(
    s.vault,
    handle,
    input.conversationId !== null ? { conversationKey: `conversation:${input.conversationId}` } : {},
  );
  const r = await askAgent(
    handle,
    { question: input.question, ...(input.conversationId !== null ? { conversationId: input.conversationId } : {}) },
    {
      model,
      modelUnavailable,
      signal,
      onToken: (text) => emit({ type: 'token', text }),
      onDiscard: () => emit({ type: 'discard' }),
      confirm: (req) => s.askConfirmation((confirmId) => emit({ type: 'confirm', confirmId, tool: req.tool, title: req.title, body: req.body }), signal),
    },
  );
  return {
    conversationId: r.conversationId,
    text: r.answer,
    mode: r.mode === 'retrieval-only' ? 'retrieval-only' : 'generated',
    citations: r.citations.map((c) => ({
      id: c.id,
      chunkId: c.chunkId,
      documentId: c.documentId,
      title: c.title,
      page: c.page,
      excerpt: c.text.slice(0, EXCERPT_CHARS),
    })),
    model: r.model,
    modelError: r.modelError?.message ?? null,
  };
}

/** The open tenant's own chat model (after its one-time migration) and its policy. */
export function modelSettings(s: ConsoleSession, h: TenantHandle): NonNullable<Settings['model']> {
  tenantModelFor(s.vault, h);
  const m = readTenantModel(h);
  const localOnly = readAgentPolicy(h).localModelsOnly;
  if (isBuiltinChoice(m)) return { baseUrl: null, name: null, hasApiKey: false, localOnly, builtin: m.model };
  return { baseUrl: m?.baseUrl ?? null, name: m?.name ?? null, hasApiKey: Boolean(m?.apiKey), localOnly, builtin: null };
}

/**
 * Stores the chat model in the open tenant's file, with its policy. The new endpoint is checked
 * against the new policy before either is stored (MODEL_NOT_ALLOWED), and a kept key stays only
 * with the same endpoint.
 */
export async function saveModelSettings(
  s: ConsoleSession,
  h: TenantHandle,
  m: { baseUrl: string; name: string; apiKey?: string | undefined; localOnly: boolean },
): Promise<void> {
  tenantModelFor(s.vault, h);
  if (m.localOnly) await assertLoopbackEndpoint(m.baseUrl);
  await setLocalModelsOnly(h, m.localOnly);
  await setTenantModel(h, { baseUrl: m.baseUrl, name: m.name, apiKey: m.apiKey === '' ? null : m.apiKey });
}

export async function testModel(s: ConsoleSession, h: TenantHandle, signal: AbortSignal): Promise<{ ok: boolean; detail: string }> {
  const config = tenantModelFor(s.vault, h);
  const chosen = readTenantModel(h);
  if (isBuiltinChoice(chosen)) {
    try {
      const loaded = await modelRuntime().loadModel(chosen.model);
      return {
        ok: true,
        detail: `${chosen.model} is loaded in the built-in runtime (${await modelRuntime().backend()}, ${Math.round(loaded.loadMs)} ms to load)`,
      };
    } catch (err) {
      return { ok: false, detail: err instanceof BulkheadError ? err.message : 'the built-in runtime could not load the model' };
    }
  }
  if (!config) throw new BulkheadError('INPUT_INVALID', 'set an endpoint and a model first');
  try {
    const r = await testConnection(h, config, signal);
    return {
      ok: true,
      detail: `${r.host} answered in ${Math.round(r.latencyMs)} ms; ${r.modelListed ? `${config.name} is available` : `${config.name} is not among its ${r.models.length} models`}`,
    };
  } catch (err) {
    return { ok: false, detail: err instanceof BulkheadError ? err.message : 'the endpoint did not answer' };
  }
}
