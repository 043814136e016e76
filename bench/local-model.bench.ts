// npm run bench:local-model — the built-in runtime on the tiny random-weight GGUF fixtures:
// load time, first-token latency, tokens/s, embeddings/s, the reranker's cost, and the cost of a
// tenant switch (dispose every context of A, create B's, first token) beside reusing one context
// (a new conversation on the tenant's warm context), all in one run. Also the cache probe: A
// asking a long prompt, A asking it again (prefix reused), B asking exactly the same (no reuse).
//
// Knobs (env): BENCH_ROUNDS (5), BENCH_TOKENS (48, tokens generated per answer),
// BENCH_EMBED_TEXTS (64). Runs through tsx (the fixtures' GGUF writer lives in test/helpers).
// The last line printed is one JSON object.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuiltinChat } from '../src-main/agent/builtin-provider.js';
import type { ChatMessage } from '../src-main/agent/provider.js';
import { BuiltinEmbedder } from '../src-main/embed/builtin.js';
import { ModelLibrary } from '../src-main/models/library.js';
import { rerank } from '../src-main/models/reranker.js';
import { LocalRuntime } from '../src-main/models/runtime.js';
import { writeTinyModel } from '../test/helpers/gguf-writer.js';
import { freshVault } from '../test/helpers/vault.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const TOKENS = Number(process.env['BENCH_TOKENS'] ?? 48);
const EMBED_TEXTS = Number(process.env['BENCH_EMBED_TEXTS'] ?? 64);
const WORDS = 'the client report invoice project meeting budget contract team plan data answer question'.split(' ');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;
const text = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => WORDS[(i * 7 + seed * 13) % WORDS.length]).join(' ');
const ask = (q: string): ChatMessage[] => [
  { role: 'system', content: 'Answer from the open client only.' },
  { role: 'user', content: q },
];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-bench-llm-'));
  try {
    const lib = new ModelLibrary(path.join(dir, 'models'));
    lib.ensureDir();
    writeTinyModel(path.join(lib.dir, 'chat.gguf'), { kind: 'chat', contextLength: 4096 });
    writeTinyModel(path.join(lib.dir, 'embed.gguf'), { kind: 'embedding', seed: 2 });
    writeTinyModel(path.join(lib.dir, 'rank.gguf'), { kind: 'reranking' });
    const vault = await freshVault(path.join(dir, 'data'));
    const ids = [vault.createTenant('Bench A').id, vault.createTenant('Bench B').id];
    const session = vault.openSession();
    const runtime = new LocalRuntime(lib, { contextSize: 4096 });
    const backend = await runtime.backend();

    let t = performance.now();
    const loaded = await runtime.loadModel('chat.gguf');
    const loadMs = performance.now() - t;

    // First token and tokens/s: a new conversation each round on tenant A's warm context.
    let a = session.open(ids[0]!);
    const first: number[] = [];
    const tps: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const chat = new BuiltinChat(runtime, a, 'chat.gguf', { maxTokens: TOKENS, temperature: 0.8, seed: i });
      await chat.streamChat(ask(text(12, i)), undefined, {});
      if (chat.lastTurn!.firstTokenMs !== null) first.push(chat.lastTurn!.firstTokenMs);
      tps.push(chat.lastTurn!.tokensPerS);
    }

    // Switch vs reuse: the time to a one-token answer, on A's warm context, or after opening B.
    const reuse: number[] = [];
    const switching: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      t = performance.now();
      await new BuiltinChat(runtime, a, 'chat.gguf', { maxTokens: 1, temperature: 0 }).streamChat(ask(text(12, 100 + i)), undefined, {});
      reuse.push(performance.now() - t);
      t = performance.now();
      const other = session.open(ids[(i + 1) % 2]!); // closes the one open: its contexts are disposed first
      await new BuiltinChat(runtime, other, 'chat.gguf', { maxTokens: 1, temperature: 0 }).streamChat(ask(text(12, 100 + i)), undefined, {});
      switching.push(performance.now() - t);
      a = other;
    }

    // Cache probe on a long prompt.
    a = session.open(ids[0]!);
    const long = ask(text(600, 7));
    const pa = new BuiltinChat(runtime, a, 'chat.gguf', { maxTokens: 1, temperature: 0, conversationKey: 'probe' });
    await pa.streamChat(long, undefined, {});
    const aFirst = pa.lastTurn!;
    await pa.streamChat(long, undefined, {});
    const aAgain = pa.lastTurn!;
    const b = session.open(ids[1]!);
    const pb = new BuiltinChat(runtime, b, 'chat.gguf', { maxTokens: 1, temperature: 0, conversationKey: 'probe' });
    await pb.streamChat(long, undefined, {});
    const bSame = pb.lastTurn!;

    // Embeddings/s (vectors of whole passages) and the reranker's cost.
    const embedder = await BuiltinEmbedder.create(runtime, b, 'embed.gguf');
    const passages = Array.from({ length: EMBED_TEXTS }, (_, i) => text(60, i));
    await embedder.embed(passages.slice(0, 2));
    t = performance.now();
    await embedder.embed(passages);
    const embedMs = performance.now() - t;
    await rerank(
      runtime,
      b,
      'rank.gguf',
      'budget plan',
      passages.slice(0, 2).map((p) => ({ text: p })),
    );
    t = performance.now();
    await rerank(
      runtime,
      b,
      'rank.gguf',
      'budget plan',
      passages.slice(0, 20).map((p) => ({ text: p })),
    );
    const rerankMs = performance.now() - t;

    const switchMs = median(switching);
    const reuseMs = median(reuse);
    const out = {
      backend,
      runtime: 'node-llama-cpp@3.21.1',
      model_params: Number(loaded.model.fileInsights.totalParameters),
      load_ms: r1(loaded.loadMs),
      load_with_checks_ms: r1(loadMs),
      first_token_ms: r1(median(first)),
      tokens_per_s: r1(median(tps)),
      embeddings_per_s: r1((EMBED_TEXTS * 1000) / embedMs),
      rerank_20_ms: r1(rerankMs),
      reuse_ms: r1(reuseMs),
      switch_ms: r1(switchMs),
      ratio_switch_vs_reuse: Math.round((switchMs / reuseMs) * 100) / 100,
      probe_a_first_ms: r1(aFirst.totalMs),
      probe_a_again_ms: r1(aAgain.totalMs),
      probe_b_same_ms: r1(bSame.totalMs),
      probe_a_first_tokens_evaluated: aFirst.inputTokens,
      probe_a_again_tokens_evaluated: aAgain.inputTokens,
      probe_b_same_tokens_evaluated: bSame.inputTokens,
      rounds: ROUNDS,
    };
    console.log(`backend ${backend} (llama.cpp through node-llama-cpp 3.21.1), tiny random-weight models, ${ROUNDS} rounds`);
    console.log(
      `load ${out.load_ms} ms (${out.load_with_checks_ms} ms with the header check and sha256); first token ${out.first_token_ms} ms; ${out.tokens_per_s} tokens/s; ${out.embeddings_per_s} embeddings/s; rerank 20 passages ${out.rerank_20_ms} ms`,
    );
    console.log(`tenant switch ${out.switch_ms} ms  vs  reuse one context ${out.reuse_ms} ms  -> ratio ${out.ratio_switch_vs_reuse}`);
    console.log(
      `cache probe (${aFirst.inputTokens}-token prompt): A first ${out.probe_a_first_ms} ms / ${aFirst.inputTokens} evaluated; A again ${out.probe_a_again_ms} ms / ${aAgain.inputTokens}; B same ${out.probe_b_same_ms} ms / ${bSame.inputTokens} (B reuses nothing of A)`,
    );
    console.log(JSON.stringify(out));
    session.close();
    await runtime.dispose();
    vault.lock();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
