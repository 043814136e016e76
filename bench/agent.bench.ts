// npm run bench:agent — the agent's context assembly (everything before the model call: hybrid
// retrieval, the tenant profile, the conversation history, fencing, token budgeting, the
// manifest hashes) beside retrieval alone, in the same run, on the same queries, on one
// encrypted tenant of BENCH_CHUNKS chunks (default 100,000) of realistic generated text
// (bench/retrieval's seeded Cranfield Markov chain), ingested by the product's own pipeline.
//
// "retrieval" = searchKnowledge(tenant, q, { k: 8 }); "assembly" = assembleContext(tenant, q,
// history, { contextTokens: 8192, k: 8 }) with two profile documents (instructions, voice) and
// a six-message history. Both are timed in alternating order, query by query, over ROUNDS
// rounds after the same warm-up; overhead = assembly - retrieval (medians, and the median of
// the per-query paired differences). Both are noisy on a busy machine (each is a whole search),
// so the part assembly adds is also timed directly: buildContext (everything after retrieval)
// on the result of the retrieval just timed. Target: assembly adds under 15 ms at p50.
//
// Knobs (env): BENCH_CHUNKS (100000), BENCH_QUERIES (200), BENCH_KEEP=1 keeps the temp folder.
// The last line printed is one JSON object.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleContext, buildContext } from '../src-main/agent/context.js';
import type { StoredMessage } from '../src-main/agent/conversations.js';
import { setDocumentRole } from '../src-main/agent/profile.js';
import { countDocuments, listDocuments } from '../src-main/ingest/documents.js';
import { createEmbedder } from '../src-main/embed/index.js';
import { ingestPaths, type IngestEvent } from '../src-main/ingest/pipeline.js';
import { readEmbedderConfig } from '../src-main/embed/settings.js';
import { searchKnowledge } from '../src-main/retrieval/knowledge.js';
import { Vault } from '../src-main/vault/vault.js';
import { writeCorpus } from './retrieval/corpus.js';
import { generateQueries, MarkovText } from './retrieval/generator.js';
import { log, round, since, summarize } from './retrieval/stats.js';

const TARGET_CHUNKS = Number(process.env['BENCH_CHUNKS'] ?? 100_000);
const QUERY_COUNT = Number(process.env['BENCH_QUERIES'] ?? 200);
const WARMUP = 10;
const ROUNDS = 3;
const K = 8;
const CONTEXT_TOKENS = 8192;
const SEED = 20_251_123;
const TARGET_OVERHEAD_MS = 15;

function history(gen: MarkovText): StoredMessage[] {
  const at = new Date().toISOString();
  return Array.from({ length: 6 }, (_, i) => ({
    seq: i + 1,
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: generateQueries(gen, SEED + 100 + i, i % 2 === 0 ? 1 : 12).join('. '),
    mode: i % 2 === 0 ? null : 'generated',
    citations: [],
    model: null,
    manifestHash: null,
    createdAt: at,
  }));
}

async function main(): Promise<void> {
  const wall = performance.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-agent-bench-'));
  fs.chmodSync(root, 0o700);
  const cleanup = (): void => {
    if (!process.env['BENCH_KEEP']) fs.rmSync(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const vault = new Vault(path.join(root, 'vault'));
  try {
    const gen = new MarkovText();
    let t0 = performance.now();
    const corpusDir = path.join(root, 'corpus');
    const corpus = await writeCorpus(gen, corpusDir, SEED, TARGET_CHUNKS);
    log(`corpus: ${corpus.files} files, ~${corpus.predictedChunks} chunks predicted, ${since(t0).toFixed(1)} s`);

    await vault.initialize('agent benchmark passphrase');
    const { id } = vault.createTenant('Agent Benchmark');
    const tenant = vault.openSession().open(id);
    const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
    t0 = performance.now();
    let lastLog = t0;
    const progress = (e: IngestEvent): void => {
      if (e.type === 'file-done' && performance.now() - lastLog > 20_000) {
        lastLog = performance.now();
        log(`ingest: ${e.filesDone}/${corpus.files} files, ${e.chunksDone} chunks`);
      }
    };
    const summary = await ingestPaths(tenant, [corpusDir], { embedder, onEvent: progress });
    const counts = countDocuments(tenant);
    log(`ingest: ${summary.chunks} chunks in ${since(t0).toFixed(1)} s (${counts.documents} documents)`);

    const [instructions, voice] = listDocuments(tenant, { limit: 2 });
    setDocumentRole(tenant, instructions!.id, 'instructions');
    setDocumentRole(tenant, voice!.id, 'voice');
    const past = history(gen);
    const queries = generateQueries(gen, SEED ^ 0xa9e7, QUERY_COUNT + WARMUP);

    const retrieve = (q: string) => searchKnowledge(tenant, q, { k: K, embedder });
    const assemble = (q: string) => assembleContext(tenant, q, past, { contextTokens: CONTEXT_TOKENS, k: K, embedder });
    for (const q of queries.slice(0, WARMUP)) {
      await retrieve(q);
      await assemble(q);
    }
    const measured = queries.slice(WARMUP);
    const retrievalMs: number[] = [];
    const assemblyMs: number[] = [];
    const buildMs: number[] = [];
    const paired: number[] = [];
    let passages = 0;
    let tokens = 0;
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      for (const [i, q] of measured.entries()) {
        const order = (i + round_) % 2 === 0 ? ['r', 'a'] : ['a', 'r'];
        let r = 0;
        let a = 0;
        for (const which of order) {
          const s = performance.now();
          if (which === 'r') {
            const found = await retrieve(q);
            r = performance.now() - s;
            const b0 = performance.now();
            buildContext(tenant, q, past, found, { contextTokens: CONTEXT_TOKENS });
            buildMs.push(performance.now() - b0);
          } else {
            const ctx = await assemble(q);
            a = performance.now() - s;
            passages += ctx.passages.length;
            tokens += ctx.manifest.tokens;
          }
        }
        retrievalMs.push(r);
        assemblyMs.push(a);
        paired.push(a - r);
      }
    }
    const R = summarize(retrievalMs);
    const A = summarize(assemblyMs);
    const D = summarize(paired);
    const B = summarize(buildMs);
    const n = measured.length * ROUNDS;
    const rows = [
      ['', 'p50 ms', 'p95 ms', 'mean ms', 'ratio p50 (vs retrieval)'],
      ['retrieval (searchKnowledge, baseline)', R.p50, R.p95, R.mean, 1],
      ['context assembly (ours)', A.p50, A.p95, A.mean, A.p50 / R.p50],
      ['paired overhead (assembly - retrieval)', D.p50, D.p95, D.mean, NaN],
      ['assembly after retrieval, timed directly', B.p50, B.p95, B.mean, NaN],
    ];
    process.stdout.write(
      `\nAgent context assembly at ${counts.chunks} chunks, ${measured.length} queries x ${ROUNDS} rounds (n=${n}), k=${K}, budget ${CONTEXT_TOKENS} tokens\n`,
    );
    for (const row of rows) {
      process.stdout.write(
        `${String(row[0]).padEnd(42)}${row
          .slice(1)
          .map((v, i) => (typeof v === 'number' ? (Number.isNaN(v) ? '-' : v.toFixed(2)) : v).padStart(i === 3 ? 28 : 12))
          .join('')}\n`,
      );
    }
    const overhead = A.p50 - R.p50;
    process.stdout.write(
      `overhead at p50: ${overhead.toFixed(2)} ms (target < ${TARGET_OVERHEAD_MS} ms: ${overhead < TARGET_OVERHEAD_MS ? 'met' : 'NOT met'}); ` +
        `${(passages / n).toFixed(1)} passages and ${(tokens / n).toFixed(0)} tokens per context on average\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        chunks: counts.chunks,
        queries: measured.length,
        rounds: ROUNDS,
        k: K,
        context_tokens: CONTEXT_TOKENS,
        retrieval_p50_ms: round(R.p50, 3),
        retrieval_p95_ms: round(R.p95, 3),
        assembly_p50_ms: round(A.p50, 3),
        assembly_p95_ms: round(A.p95, 3),
        assembly_overhead_p50_ms: round(overhead, 3),
        paired_overhead_p50_ms: round(D.p50, 3),
        paired_overhead_p95_ms: round(D.p95, 3),
        build_context_p50_ms: round(B.p50, 3),
        build_context_p95_ms: round(B.p95, 3),
        ratio_assembly_to_retrieval_p50: round(A.p50 / R.p50, 3),
        passages_per_context: round(passages / n, 2),
        tokens_per_context: Math.round(tokens / n),
        wall_s: round(since(wall), 1),
      })}\n`,
    );
  } finally {
    vault.lock();
    cleanup();
  }
}

await main();
