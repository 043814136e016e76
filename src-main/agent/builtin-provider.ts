// The built-in provider: the agent's chat calls answered by a GGUF model in this process, on a
// sequence that belongs to the open tenant (see models/runtime.ts). Same contract as the
// OpenAI-compatible provider: streamed text, tool calls as raw JSON for the tool layer to
// validate, cancel, a silence timeout, typed errors.
import crypto from 'node:crypto';
import type { ChatHistoryItem, GbnfJsonSchema, LlamaChat as LlamaChatType } from 'node-llama-cpp';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import type { LocalRuntime, SequenceSlot, TenantState } from '../models/runtime.js';
import type { TenantHandle } from '../vault/handle.js';
import type { ModelConfig } from './model-config.js';
import type { BuiltinBinding, ChatCallOptions, ChatMessage, ModelTurn, ToolSpec } from './provider.js';

export const RUNTIME_NAME = 'node-llama-cpp@3.21.1';

export interface BuiltinChatOptions {
  /** The conversation this binding serves: null starts a new one on a fresh sequence. */
  conversationKey?: string | null;
  timeoutMs?: number;
  maxTokens?: number;
  /** 0: always the likeliest token (reproducible). */
  temperature?: number;
  seed?: number;
  onQueued?: (position: number) => void;
}

/** What one call cost: the cache probe reads `inputTokens` (tokens evaluated, not reused). */
export interface TurnStats {
  inputTokens: number;
  outputTokens: number;
  firstTokenMs: number | null;
  totalMs: number;
  tokensPerS: number;
  contextTokens: number;
  /** Tokens the sequence held before the call: 0 on a fresh sequence. */
  tokensBefore: number;
}

function text(m: ChatMessage): string {
  const c = (m as { content?: unknown }).content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: { text?: string }) => p.text ?? '').join('');
  return '';
}

/** OpenAI-style messages as node-llama-cpp history; tool traffic is rendered as text. */
export function toHistory(messages: ChatMessage[], toolsNote: string | null): ChatHistoryItem[] {
  const out: ChatHistoryItem[] = [];
  for (const m of messages) {
    const t = text(m);
    if (m.role === 'system' || m.role === 'developer') out.push({ type: 'system', text: t });
    else if (m.role === 'user') out.push({ type: 'user', text: t });
    else if (m.role === 'assistant') {
      const calls = ((m as { tool_calls?: { function: { name: string; arguments: string } }[] }).tool_calls ?? []).map(
        (c) => `[called ${c.function.name} ${c.function.arguments}]`,
      );
      out.push({ type: 'model', response: [[t, ...calls].filter(Boolean).join('\n')] });
    } else if (m.role === 'tool') out.push({ type: 'user', text: `[tool result]\n${t}` });
  }
  if (toolsNote) {
    const first = out.find((h) => h.type === 'system');
    if (first && first.type === 'system') first.text = `${String(first.text)}\n\n${toolsNote}`;
    else out.unshift({ type: 'system', text: toolsNote });
  }
  return out;
}

/** A tool's JSON schema reduced to what a GBNF grammar expresses; the tool layer validates the rest. */
export function toGrammarSchema(schema: unknown): GbnfJsonSchema {
  const s = (schema ?? {}) as { type?: unknown; enum?: unknown[]; properties?: Record<string, unknown>; required?: string[]; maxLength?: number };
  if (Array.isArray(s.enum)) return { enum: s.enum.filter((v) => ['string', 'number', 'boolean'].includes(typeof v)) as (string | number | boolean)[] };
  switch (s.type) {
    case 'integer':
      return { type: 'integer' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object': {
      const required = new Set(s.required ?? []);
      const properties: Record<string, GbnfJsonSchema> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) if (required.has(k)) properties[k] = toGrammarSchema(v);
      return { type: 'object', properties };
    }
    default:
      return { type: 'string', minLength: 1, maxLength: Math.min(s.maxLength ?? 120, 120) };
  }
}

function toolsNote(tools: ToolSpec[]): string {
  const lines = tools.map((t) => ('function' in t ? `- ${t.function.name}: ${t.function.description ?? ''}` : '')).filter(Boolean);
  return `You may call one of these tools before answering:\n${lines.join('\n')}`;
}

export class BuiltinChat implements BuiltinBinding {
  readonly runtimeName = RUNTIME_NAME;
  readonly #key: string;
  #fresh: boolean;
  #slot: SequenceSlot | null = null;
  #sha256: string | null = null;
  #contextId = crypto.randomBytes(6).toString('hex');
  /** The last call's cost, for the console's tokens/s and for the cache probe. */
  lastTurn: TurnStats | null = null;

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly tenant: TenantHandle,
    readonly modelName: string,
    private readonly opts: BuiltinChatOptions = {},
  ) {
    this.#key = opts.conversationKey ?? `new:${crypto.randomUUID()}`;
    this.#fresh = !opts.conversationKey;
  }

  /** The sequence this binding last used (tests check it is disposed with its tenant). */
  get sequence(): SequenceSlot['sequence'] | null {
    return this.#slot?.sequence ?? null;
  }

  /** Loads the model (with progress events) and learns its hash, before the first call is written to the ledger. */
  async prepare(): Promise<this> {
    this.#sha256 = (await this.runtime.loadModel(this.modelName)).sha256;
    return this;
  }

  /** For the ledger: which runtime and weights answered, and the context it used (ids and counts only). */
  ledgerData(): Record<string, string | number> {
    return {
      runtime: this.runtimeName,
      ...(this.#sha256 ? { modelSha256: this.#sha256 } : {}),
      contextId: this.#contextId,
      contextTokens: this.#slot?.sequence.contextTokens.length ?? 0,
    };
  }

  async streamChat(messages: ChatMessage[], tools: ToolSpec[] | undefined, opts: ChatCallOptions): Promise<ModelTurn> {
    const loaded = await this.runtime.loadModel(this.modelName);
    this.#sha256 = loaded.sha256;
    return this.runtime.run(this.tenant, async (state) => this.#turn(state, loaded, messages, tools, opts), this.opts.onQueued);
  }

  async #turn(
    state: TenantState,
    loaded: Awaited<ReturnType<LocalRuntime['loadModel']>>,
    messages: ChatMessage[],
    tools: ToolSpec[] | undefined,
    opts: ChatCallOptions,
  ): Promise<ModelTurn> {
    const c = await this.runtime.chatContext(state, loaded);
    // A slot of a context since disposed (tenant switch) is never reused: pick again.
    if (!this.#slot || this.#slot.sequence.disposed || !c.slots.includes(this.#slot)) {
      this.#slot = this.runtime.pickSequence(c, this.#key, this.#fresh);
      this.#fresh = false;
    }
    const seq = this.#slot.sequence;
    const { LlamaChat } = await import('../models/llama.js');
    const chat = new LlamaChat({ contextSequence: seq, chatWrapper: loaded.chatWrapper, autoDisposeSequence: false });
    const timeoutMs = this.opts.timeoutMs ?? 120_000;
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    opts.signal?.addEventListener('abort', stop, { once: true });
    state.abort.signal.addEventListener('abort', stop, { once: true });
    if (opts.signal?.aborted || state.abort.signal.aborted) controller.abort();
    let idle = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, timeoutMs);
    };
    const tokensBefore = seq.contextTokens.length;
    const meterIn = seq.tokenMeter.usedInputTokens;
    const meterOut = seq.tokenMeter.usedOutputTokens;
    const t0 = performance.now();
    let firstTokenMs: number | null = null;
    const history = toHistory(messages, tools && tools.length > 0 ? toolsNote(tools) : null);
    const generate = async (h: ChatHistoryItem[], grammarSchema: GbnfJsonSchema | null, onText?: (t: string) => void, maxTokens?: number): Promise<string> => {
      const grammar = grammarSchema ? await (await this.runtime.llama()).createGrammarForJsonSchema(grammarSchema as never) : undefined;
      const res = await chat.generateResponse([...h, { type: 'model', response: [] }], {
        signal: controller.signal,
        stopOnAbortSignal: false,
        maxTokens: maxTokens ?? this.opts.maxTokens ?? 512,
        temperature: this.opts.temperature ?? 0.7,
        ...(this.opts.seed !== undefined ? { seed: this.opts.seed } : {}),
        ...(grammar ? { grammar } : {}),
        onTextChunk: (t: string) => {
          arm();
          firstTokenMs ??= performance.now() - t0;
          onText?.(t);
        },
      });
      return res.response;
    };
    try {
      arm();
      if (tools && tools.length > 0) {
        const names = tools.flatMap((t) => ('function' in t ? [t.function.name] : []));
        const decision = await generate(history, { type: 'object', properties: { action: { enum: ['answer', ...names] } } }, undefined, 24);
        const action = parseAction(decision, names);
        if (action) {
          const spec = tools.find((t) => 'function' in t && t.function.name === action);
          const schema = spec && 'function' in spec ? toGrammarSchema(spec.function.parameters) : { type: 'object', properties: {} };
          const args = await generate([...history, { type: 'user', text: `Arguments for ${action}, as JSON:` }], schema as GbnfJsonSchema, undefined, 160);
          return this.#finish(seq, tokensBefore, meterIn, meterOut, t0, firstTokenMs, {
            content: '',
            toolCalls: [{ id: `call_${crypto.randomBytes(4).toString('hex')}`, name: action, arguments: args }],
            finishReason: 'tool_calls',
          });
        }
      }
      const content = await generate(history, null, (t) => opts.onToken?.(t));
      if (controller.signal.aborted) throw new Error(idle ? 'idle' : 'aborted');
      return this.#finish(seq, tokensBefore, meterIn, meterOut, t0, firstTokenMs, { content, toolCalls: [], finishReason: 'stop' });
    } catch (err) {
      if (isBulkheadError(err)) throw err;
      if (state.abort.signal.aborted || !this.tenant.isOpen)
        throw new BulkheadError('TENANT_CLOSED', 'the tenant was closed while the built-in model was answering', { cause: err });
      if (idle)
        throw new BulkheadError('MODEL_UNAVAILABLE', `the built-in model ${this.modelName} sent nothing for ${timeoutMs} ms (timed out)`, { cause: err });
      if (opts.signal?.aborted) throw new BulkheadError('CANCELLED', 'the answer was cancelled', { cause: err });
      throw new BulkheadError('MODEL_UNAVAILABLE', `the built-in model ${this.modelName} failed: ${(err as Error).message?.slice(0, 200) ?? 'unknown error'}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      state.abort.signal.removeEventListener('abort', stop);
      (chat as LlamaChatType).dispose({ disposeSequence: false });
    }
  }

  #finish(
    seq: SequenceSlot['sequence'],
    tokensBefore: number,
    meterIn: number,
    meterOut: number,
    t0: number,
    firstTokenMs: number | null,
    turn: ModelTurn,
  ): ModelTurn {
    const totalMs = performance.now() - t0;
    const outputTokens = seq.tokenMeter.usedOutputTokens - meterOut;
    const genMs = firstTokenMs === null ? totalMs : Math.max(1, totalMs - firstTokenMs);
    this.lastTurn = {
      inputTokens: seq.tokenMeter.usedInputTokens - meterIn,
      outputTokens,
      firstTokenMs,
      totalMs,
      tokensPerS: outputTokens > 1 ? ((outputTokens - 1) * 1000) / genMs : 0,
      contextTokens: seq.contextTokens.length,
      tokensBefore,
    };
    this.runtime.recordTurn(this.tenant, { model: this.modelName, tokens: outputTokens, tokensPerS: this.lastTurn.tokensPerS, firstTokenMs });
    return turn;
  }
}

function parseAction(raw: string, names: string[]): string | null {
  try {
    const v = (JSON.parse(raw) as { action?: unknown }).action;
    return typeof v === 'string' && names.includes(v) ? v : null;
  } catch {
    return null; // cut short: answer in words instead
  }
}

/**
 * The agent's model for a tenant that chose a built-in model: a ModelConfig whose calls go to the
 * runtime. `contextTokens` is the context the runtime gives the tenant, so the prompt budget fits it.
 */
export async function builtinModelConfig(
  runtime: LocalRuntime,
  tenant: TenantHandle,
  modelName: string,
  opts: BuiltinChatOptions & { contextTokens?: number } = {},
): Promise<ModelConfig> {
  const binding = await new BuiltinChat(runtime, tenant, modelName, opts).prepare();
  const loaded = await runtime.loadModel(modelName);
  return {
    baseUrl: 'http://127.0.0.1/builtin',
    name: modelName,
    apiKey: null,
    // What the runtime's context holds: the prompt budget must fit in it, whatever was asked for.
    contextTokens: Math.max(1024, Math.min(opts.contextTokens ?? 4096, loaded.model.trainContextSize, runtime.contextSize)),
    timeoutMs: opts.timeoutMs ?? 120_000,
    maxRetries: 0,
    builtin: binding,
  };
}
