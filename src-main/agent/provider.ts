import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { tenantEgress } from '../egress/egress.js';
import { endpointHost } from '../egress/endpoint.js';
import { classifyModelFailure, tenantModelClient } from '../egress/model-client.js';
import type { TenantHandle } from '../vault/handle.js';
import type { ModelConfig } from './model-config.js';

export type ChatMessage = ChatCompletionMessageParam;
export type ToolSpec = ChatCompletionTool;

export interface ToolCallRequest {
  id: string;
  name: string;
  /** The raw JSON text the model sent: parsed and validated by the tool layer, never here. */
  arguments: string;
}

export interface ModelTurn {
  content: string;
  toolCalls: ToolCallRequest[];
  finishReason: string | null;
}

export interface ChatCallOptions {
  signal?: AbortSignal;
  /** Called with each streamed piece of text; may throw to stop the stream. */
  onToken?: (text: string) => void;
}

/** A chat model run by the built-in runtime for one open tenant (agent/builtin-provider.ts). */
export interface BuiltinBinding {
  readonly modelName: string;
  streamChat(messages: ChatMessage[], tools: ToolSpec[] | undefined, opts: ChatCallOptions): Promise<ModelTurn>;
  /** Ids, hashes and counts for the ledger: runtime, model file hash, the context used. */
  ledgerData(): Record<string, string | number>;
}

/** Turns whatever the SDK or the network threw into an error that names the endpoint, never the prompt. */
function modelError(err: unknown, config: ModelConfig, signal: AbortSignal | undefined, idle: boolean): unknown {
  if (isBulkheadError(err)) return err;
  const policy = findPolicyError(err);
  if (policy) return policy;
  const host = endpointHost(config.baseUrl);
  if (idle) return new BulkheadError('MODEL_UNAVAILABLE', `the model at ${host} sent nothing for ${config.timeoutMs} ms (timed out)`, { cause: err });
  if (signal?.aborted) return new BulkheadError('CANCELLED', 'the answer was cancelled', { cause: err });
  let reason: string;
  const failure = classifyModelFailure(err);
  if (failure.kind === 'timeout') reason = `no response within ${config.timeoutMs} ms (timed out)`;
  else if (failure.kind === 'connection') reason = 'cannot connect (is the model server running?)';
  else if (failure.kind === 'status') reason = `it answered HTTP ${failure.status}`;
  else if (err instanceof SyntaxError) reason = 'it sent something that is not the OpenAI protocol (unreadable JSON)';
  else reason = `the stream failed (${err instanceof Error ? err.message.slice(0, 200) : 'unknown error'})`;
  return new BulkheadError('MODEL_UNAVAILABLE', `the model at ${host} failed: ${reason}`, { cause: err });
}

function findPolicyError(err: unknown): BulkheadError | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isBulkheadError(e, 'MODEL_NOT_ALLOWED')) return e;
  }
  return null;
}

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

// Beyond this a turn's tool calls are not even kept (the agent refuses more than it runs per step).
const MAX_TOOL_CALLS_PER_TURN = 64;
const MAX_ARGUMENT_CHARS = 64 * 1024;

function addToolDelta(calls: Map<number, PartialCall>, delta: NonNullable<ChatCompletionChunk['choices'][number]['delta']['tool_calls']>[number]): void {
  if (!calls.has(delta.index) && calls.size >= MAX_TOOL_CALLS_PER_TURN) return;
  const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
  if (delta.id) call.id = delta.id.slice(0, 200);
  if (delta.function?.name) call.name = (call.name + delta.function.name).slice(0, 200);
  // Oversized arguments are cut here, so the tool layer refuses them as invalid JSON or too long.
  if (delta.function?.arguments && call.arguments.length <= MAX_ARGUMENT_CHARS) call.arguments += delta.function.arguments;
  calls.set(delta.index, call);
}

/**
 * One streamed chat completion for this tenant, through its egress: the "local models only"
 * policy and held endpoints are checked before the call and again by the fetch for every attempt. Times out when the stream stays
 * silent for `timeoutMs`; the SDK retries connection failures, 408/409/429 and 5xx before the
 * stream starts.
 */
export async function streamChat(
  tenant: TenantHandle,
  config: ModelConfig,
  messages: ChatMessage[],
  tools: ToolSpec[] | undefined,
  opts: ChatCallOptions = {},
): Promise<ModelTurn> {
  // The built-in runtime runs in this process: nothing leaves it, so there is no egress to pass.
  if (config.builtin) return config.builtin.streamChat(messages, tools, opts);
  await tenantEgress(tenant, 'chat').check(config.baseUrl);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) controller.abort();
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      controller.abort();
    }, config.timeoutMs);
  };
  let content = '';
  let finishReason: string | null = null;
  const calls = new Map<number, PartialCall>();
  try {
    arm();
    const stream = await tenantModelClient(tenant, 'chat', config).chat.completions.create(
      { model: config.name, messages, stream: true, ...(tools && tools.length > 0 ? { tools } : {}) },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      arm();
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const text = choice.delta?.content;
      if (text) {
        content += text;
        opts.onToken?.(text);
      }
      for (const d of choice.delta?.tool_calls ?? []) addToolDelta(calls, d);
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    // The SDK ends the iteration quietly on abort: an aborted stream is never a complete answer.
    if (controller.signal.aborted) throw new Error(idle ? 'idle' : 'aborted');
  } catch (err) {
    if (isBulkheadError(err, 'TENANT_CLOSED')) throw err;
    throw modelError(err, config, opts.signal, idle);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([i, c]) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
  return { content, toolCalls, finishReason };
}

export interface ConnectionReport {
  host: string;
  ok: boolean;
  latencyMs: number;
  models: string[];
  modelListed: boolean;
}

/** Lists the endpoint's models through the tenant's egress: proves it is reachable and speaks the protocol. */
export async function testConnection(tenant: TenantHandle, config: ModelConfig, signal?: AbortSignal): Promise<ConnectionReport> {
  await tenantEgress(tenant, 'connection-test').check(config.baseUrl);
  const t0 = performance.now();
  try {
    const models: string[] = [];
    for await (const m of tenantModelClient(tenant, 'model-list', { ...config, maxRetries: 0 }).models.list({ ...(signal ? { signal } : {}) })) {
      models.push(m.id);
      if (models.length >= 500) break;
    }
    return { host: endpointHost(config.baseUrl), ok: true, latencyMs: performance.now() - t0, models, modelListed: models.includes(config.name) };
  } catch (err) {
    throw modelError(err, config, signal, false);
  }
}
