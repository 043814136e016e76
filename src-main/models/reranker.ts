// The reranking slot: a library GGUF reranker (node-llama-cpp's ranking context) re-orders the
// fused candidates of a search, on a ranking context that belongs to the open tenant. Off unless
// the tenant chose a reranker.
import type { TenantHandle } from '../vault/handle.js';
import type { LocalRuntime } from './runtime.js';

export interface Rankable {
  text: string;
}

/** The candidates, best first by the reranker's score (ties keep the fused order). */
export async function rerank<T extends Rankable>(
  runtime: LocalRuntime,
  tenant: TenantHandle,
  modelName: string,
  query: string,
  candidates: readonly T[],
  signal?: AbortSignal,
): Promise<{ items: T[]; scores: number[] }> {
  if (candidates.length <= 1) return { items: [...candidates], scores: candidates.map(() => 1) };
  const loaded = await runtime.loadModel(modelName);
  return runtime.run(tenant, async (state) => {
    signal?.throwIfAborted();
    const context = await runtime.rankingContext(state, loaded);
    const budget = Math.min(2048, loaded.model.trainContextSize) - 16;
    const q = loaded.model.detokenize(loaded.model.tokenize(query).slice(0, Math.floor(budget / 4)));
    const room = budget - loaded.model.tokenize(q).length;
    const docs = candidates.map((c) => loaded.model.detokenize(loaded.model.tokenize(c.text).slice(0, room)));
    const scores = await context.rankAll(q, docs);
    const order = scores.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s || a.i - b.i);
    return { items: order.map((o) => candidates[o.i]!), scores: order.map((o) => o.s) };
  });
}
