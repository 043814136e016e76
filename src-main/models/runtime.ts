// The built-in model runtime: node-llama-cpp (llama.cpp) in this process. Weights are loaded once
// and shared (they are not tenant data); every context and sequence belongs to exactly one open
// TenantHandle, and all of them are disposed (KV cache freed) when that tenant closes or another
// tenant asks, before the other tenant's first token. One model works at a time, in a queue.
import os from 'node:os';
import type { ChatWrapper, Llama, LlamaContext, LlamaEmbeddingContext, LlamaModel, LlamaRankingContext } from 'node-llama-cpp';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { checkModelFile } from './gguf-check.js';
import { ModelLibrary } from './library.js';

export type RuntimeEvent =
  | { type: 'load'; model: string; progress: number }
  | { type: 'loaded'; model: string; loadMs: number }
  | { type: 'queued'; position: number }
  | { type: 'generated'; model: string; tokens: number; tokensPerS: number; firstTokenMs: number | null }
  | { type: 'disposed'; contexts: number };

/** What the console shows of the runtime for the open tenant: weights loading, and its last answer's speed. */
export interface RuntimeStatus {
  /** 'cpu', 'metal', 'cuda' or 'vulkan' once the backend is up; null before any model was asked for. */
  backend: string | null;
  loading: { model: string; progress: number }[];
  loaded: { model: string; loadMs: number }[];
  queue: number;
  /** Contexts this tenant holds now. */
  contexts: number;
  /** This tenant's last built-in answer (kept in its handle's cache, gone when it closes). */
  lastTurn: { model: string; tokens: number; tokensPerS: number; firstTokenMs: number | null; at: string } | null;
}

const LAST_TURN = cacheKey<RuntimeStatus['lastTurn']>('model runtime last turn', () => undefined);

export interface RuntimeOptions {
  /** 'auto' lets node-llama-cpp pick Metal, CUDA or Vulkan where the machine has one; CPU otherwise. */
  gpu?: 'auto' | false;
  /** Tokens per chat context (shared by its sequences). */
  contextSize?: number;
  /** Conversations a tenant keeps warm at once; the least recently used one is cleared first. */
  sequences?: number;
  /**
   * CPU threads for llama.cpp. Fewer than the cores: its threads spin while they wait, and a
   * busy machine (or an oversubscribed one) slows to a crawl with one per core.
   */
  threads?: number;
  onEvent?: (e: RuntimeEvent) => void;
}

export interface LoadedModel {
  name: string;
  path: string;
  sha256: string;
  model: LlamaModel;
  /** Resolved once per model (node-llama-cpp reads the GGUF's chat template to pick it). */
  chatWrapper: ChatWrapper;
  loadMs: number;
}

/** One conversation's place in a chat context: its tokens are this tenant's and nobody else's. */
export interface SequenceSlot {
  readonly sequence: ReturnType<LlamaContext['getSequence']>;
  /** The conversation it serves (a key of the caller's making, scoped to this tenant). */
  key: string;
  usedAt: number;
}

interface TenantState {
  readonly tenant: TenantHandle;
  chat: Map<string, { context: LlamaContext; slots: SequenceSlot[] }>;
  embedding: Map<string, LlamaEmbeddingContext>;
  ranking: Map<string, LlamaRankingContext>;
  /** Aborts whatever is generating for this tenant when it closes. */
  readonly abort: AbortController;
}

export class LocalRuntime {
  readonly #library: ModelLibrary;
  readonly #opts: Required<Omit<RuntimeOptions, 'onEvent'>> & Pick<RuntimeOptions, 'onEvent'>;
  #llama: Promise<Llama> | null = null;
  readonly #models = new Map<string, Promise<LoadedModel>>();
  /** This runtime's entry in a tenant's cache: releasing it disposes that tenant's contexts. */
  readonly #closeKey = cacheKey<() => void>('model runtime contexts', (dispose) => dispose());
  #state: TenantState | null = null;
  #disposing: Promise<void> = Promise.resolve();
  #lock: Promise<void> = Promise.resolve();
  #waiting = 0;
  #backend: string | null = null;
  readonly #loading = new Map<string, number>();
  readonly #loaded = new Map<string, number>();
  /** Contexts disposed so far, for tests and the bench: every one a tenant ever had. */
  disposedContexts = 0;

  constructor(library: ModelLibrary, opts: RuntimeOptions = {}) {
    this.#library = library;
    this.#opts = {
      gpu: opts.gpu ?? 'auto',
      contextSize: opts.contextSize ?? 4096,
      sequences: opts.sequences ?? 2,
      threads: opts.threads ?? Math.max(1, Math.min(4, os.availableParallelism() - 1)),
      onEvent: opts.onEvent,
    };
  }

  /** Tokens of each chat context the runtime creates (a prompt must fit in it). */
  get contextSize(): number {
    return this.#opts.contextSize;
  }

  get library(): ModelLibrary {
    return this.#library;
  }

  /** The backend llama.cpp runs on here: 'cpu', 'metal', 'cuda' or 'vulkan'. */
  async backend(): Promise<string> {
    const llama = await this.llama();
    return llama.gpu === false ? 'cpu' : llama.gpu;
  }

  llama(): Promise<Llama> {
    this.#llama ??= import('./llama.js')
      .then(({ getLlama, LlamaLogLevel }) =>
        getLlama({ gpu: this.#opts.gpu, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false, maxThreads: this.#opts.threads }),
      )
      .then((llama) => {
        this.#backend = llama.gpu === false ? 'cpu' : llama.gpu;
        return llama;
      });
    return this.#llama;
  }

  /** Load progress of weights (any tenant's: weights are not tenant data) and this tenant's last answer. */
  status(tenant: TenantHandle): RuntimeStatus {
    return {
      backend: this.#backend,
      loading: [...this.#loading].map(([model, progress]) => ({ model, progress })),
      loaded: [...this.#loaded].map(([model, loadMs]) => ({ model, loadMs })),
      queue: this.#waiting,
      contexts: this.contextsOf(tenant),
      lastTurn: tenant.isOpen ? (tenant.cache.get(LAST_TURN) ?? null) : null,
    };
  }

  /** Keeps the figures of a tenant's answer with that tenant (and emits them). */
  recordTurn(tenant: TenantHandle, turn: { model: string; tokens: number; tokensPerS: number; firstTokenMs: number | null }): void {
    if (tenant.isOpen) tenant.cache.set(LAST_TURN, { ...turn, at: new Date().toISOString() });
    this.emit({ type: 'generated', ...turn });
  }

  /** Loads a library model once (weights are shared; no tenant state lives in them). */
  loadModel(name: string): Promise<LoadedModel> {
    let p = this.#models.get(name);
    if (!p) {
      p = this.#load(name);
      this.#models.set(name, p);
      p.catch(() => this.#models.delete(name));
    }
    return p;
  }

  async #load(name: string): Promise<LoadedModel> {
    const file = this.#library.pathOf(name);
    await checkModelFile(file); // refuses a bad or too-large file before llama.cpp sees it
    const [llama, sha256] = await Promise.all([this.llama(), ModelLibrary.fileHash(file)]);
    const t0 = performance.now();
    let model: LlamaModel;
    this.#loading.set(name, 0);
    let done = false; // llama.cpp may report progress after the load resolved
    try {
      model = await llama.loadModel({
        modelPath: file,
        onLoadProgress: (progress) => {
          if (done) return;
          this.#loading.set(name, progress);
          this.#opts.onEvent?.({ type: 'load', model: name, progress });
        },
      });
    } catch (err) {
      done = true;
      this.#loading.delete(name);
      throw new BulkheadError('MODEL_INVALID', `the built-in runtime cannot load ${name}: ${(err as Error).message.slice(0, 200)}`, { cause: err });
    }
    const loadMs = performance.now() - t0;
    done = true;
    this.#loading.delete(name);
    this.#loaded.set(name, loadMs);
    const { resolveChatWrapper, GeneralChatWrapper } = await import('./llama.js');
    const chatWrapper = resolveChatWrapper(model) ?? new GeneralChatWrapper();
    this.#opts.onEvent?.({ type: 'loaded', model: name, loadMs });
    return { name, path: file, sha256, model, chatWrapper, loadMs };
  }

  /**
   * Runs `work` for `tenant` alone: waits its turn (one model at a time), and first disposes every
   * context of any other tenant. `work` gets the tenant's state and an abort signal that fires if
   * the tenant closes meanwhile.
   */
  async run<T>(tenant: TenantHandle, work: (state: TenantState) => Promise<T>, onQueued?: (position: number) => void): Promise<T> {
    const previous = this.#lock;
    let release!: () => void;
    this.#lock = new Promise<void>((r) => (release = r));
    const position = ++this.#waiting - 1;
    if (position > 0) {
      onQueued?.(position);
      this.#opts.onEvent?.({ type: 'queued', position });
    }
    try {
      await previous;
      await this.#disposing;
      if (!tenant.isOpen) throw new BulkheadError('TENANT_CLOSED', 'this tenant is closed (another tenant was opened, or the vault was locked)');
      if (this.#state && this.#state.tenant !== tenant) await this.#release(this.#state);
      if (!this.#state) this.#state = this.#adopt(tenant);
      return await work(this.#state);
    } finally {
      this.#waiting--;
      release();
    }
  }

  /** Generations waiting for the model (0: the next one starts at once). */
  get queueLength(): number {
    return this.#waiting;
  }

  #adopt(tenant: TenantHandle): TenantState {
    const state: TenantState = { tenant, chat: new Map(), embedding: new Map(), ranking: new Map(), abort: new AbortController() };
    // Kept in the tenant's own cache, whose close runs it: the contexts go when the tenant does.
    tenant.cache.set(this.#closeKey, () => {
      if (this.#state !== state) return;
      state.abort.abort();
      // The next run (any tenant's) waits for this before it starts.
      this.#disposing = this.#disposing.then(() => this.#release(state));
    });
    return state;
  }

  async #release(state: TenantState): Promise<void> {
    if (this.#state === state) this.#state = null;
    state.abort.abort();
    const all: { dispose(): Promise<void> }[] = [...[...state.chat.values()].map((c) => c.context), ...state.embedding.values(), ...state.ranking.values()];
    state.chat.clear();
    state.embedding.clear();
    state.ranking.clear();
    await Promise.all(all.map((c) => c.dispose().catch(() => undefined)));
    this.disposedContexts += all.length;
    if (all.length > 0) this.#opts.onEvent?.({ type: 'disposed', contexts: all.length });
  }

  /** How many contexts the tenant holds now (0 when it is not the one the runtime serves). */
  contextsOf(tenant: TenantHandle): number {
    const s = this.#state;
    if (!s || s.tenant !== tenant) return 0;
    return s.chat.size + s.embedding.size + s.ranking.size;
  }

  /** Waits until the contexts of closed tenants are disposed. */
  settled(): Promise<void> {
    return this.#disposing;
  }

  /** The chat context of this tenant for a model, created on first use. */
  async chatContext(state: TenantState, loaded: LoadedModel): Promise<{ context: LlamaContext; slots: SequenceSlot[] }> {
    let c = state.chat.get(loaded.name);
    if (!c) {
      const contextSize = Math.min(this.#opts.contextSize, loaded.model.trainContextSize);
      const context = await loaded.model.createContext({ contextSize, sequences: this.#opts.sequences, threads: this.#opts.threads });
      c = { context, slots: [] };
      state.chat.set(loaded.name, c);
    }
    return c;
  }

  /**
   * The sequence for a call: `fresh` (a new conversation) always gets an empty one; otherwise the
   * tenant's slot for this conversation key, whose evaluated prefix llama.cpp then reuses.
   */
  pickSequence(c: { context: LlamaContext; slots: SequenceSlot[] }, key: string, fresh: boolean): SequenceSlot {
    const existing = c.slots.find((s) => s.key === key);
    if (existing && !fresh) {
      existing.usedAt = performance.now();
      return existing;
    }
    if (existing) {
      c.slots.splice(c.slots.indexOf(existing), 1);
      existing.sequence.dispose();
    }
    if (c.context.sequencesLeft === 0) {
      const lru = c.slots.sort((a, b) => a.usedAt - b.usedAt).shift()!;
      lru.sequence.dispose(); // frees its cells of the KV cache
    }
    const slot: SequenceSlot = { sequence: c.context.getSequence(), key, usedAt: performance.now() };
    c.slots.push(slot);
    return slot;
  }

  async embeddingContext(state: TenantState, loaded: LoadedModel): Promise<LlamaEmbeddingContext> {
    let c = state.embedding.get(loaded.name);
    if (!c) {
      c = await loaded.model.createEmbeddingContext({ contextSize: Math.min(2048, loaded.model.trainContextSize), threads: this.#opts.threads });
      state.embedding.set(loaded.name, c);
    }
    return c;
  }

  async rankingContext(state: TenantState, loaded: LoadedModel): Promise<LlamaRankingContext> {
    let c = state.ranking.get(loaded.name);
    if (!c) {
      if (!loaded.model.fileInsights.supportsRanking) throw new BulkheadError('MODEL_INVALID', `${loaded.name} is not a reranking model`);
      c = await loaded.model.createRankingContext({ contextSize: Math.min(2048, loaded.model.trainContextSize), threads: this.#opts.threads });
      state.ranking.set(loaded.name, c);
    }
    return c;
  }

  emit(e: RuntimeEvent): void {
    this.#opts.onEvent?.(e);
  }

  /** Disposes every context, every model and the backend. */
  async dispose(): Promise<void> {
    await this.#disposing;
    if (this.#state) await this.#release(this.#state);
    for (const p of this.#models.values()) await (await p.catch(() => null))?.model.dispose();
    this.#models.clear();
    this.#loaded.clear();
    if (this.#llama) await (await this.#llama).dispose();
    this.#llama = null;
  }
}

export type { TenantState };
