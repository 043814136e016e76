// Retrieval quality and speed of the product defaults on every collection in BEIR layout
// (corpus.jsonl, queries.jsonl, qrels/test.tsv) under ../shared/datasets, found relative to the
// repository (Cranfield 1400, NFCorpus, ArguAna, ...), or on one: --dataset DIR.
//   npm run eval:retrieval [-- --dataset ../shared/datasets/nfcorpus] [--queries N (the first N: a quick check)]
// For each collection: writes every document as a .txt file (title line, then the text), ingests
// the folder into a fresh encrypted tenant through the normal pipeline (parser, token chunker,
// default embedder), runs every judged query (ids of any form), and prints nDCG@10 and
// Recall@100 for plain BM25, plain vectors and the product's hybrid search, then timings. BEIR's
// rule for ArguAna (and Quora): a query's own document is left out of its ranking. The last line
// is one JSON object keyed by collection. No setting here looks at the judgements: they are only
// used to score.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../src-main/embed/embedder.js';
import { createEmbedder } from '../src-main/embed/index.js';
import { tuneOfflineEmbedder } from '../src-main/retrieval/term-space-job.js';
import { calibrateTenant, fusionWeightFor, pendingCalibration, readCalibration } from '../src-main/retrieval/calibration.js';
import { readEmbedderConfig } from '../src-main/embed/settings.js';
import { SEARCH_DEFAULTS } from '../src-main/retrieval/search.js';
import { Vault } from '../src-main/vault/vault.js';
import { loadCranfield, OWN_ID_COLLECTIONS, type CranfieldQuery } from './cranfield.js';
import type { Scores } from './evaluate.js';
import { ingestCranfield, runQueries } from './evaluate.js';

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
const row = (name: string, s: Scores): string => `${name.padEnd(44)} ${s.ndcgAt10.toFixed(4)}     ${s.recallAt100.toFixed(4)}`;

function collectionDirs(): string[] {
  const at = process.argv.indexOf('--dataset');
  if (at >= 0) {
    const dir = process.argv[at + 1];
    if (!dir) throw new Error('--dataset needs a directory');
    return [path.resolve(dir)];
  }
  // dist/bench/eval-retrieval.js or bench/eval-retrieval.ts: the repository is two or one up.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const repo = [path.resolve(here, '..', '..'), path.resolve(here, '..')].find((d) => fs.existsSync(path.join(d, 'package.json')))!;
  const root = process.env['BULKHEAD_DATASETS'] ?? path.resolve(repo, '..', 'shared', 'datasets');
  const dirs = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'corpus.jsonl')))
    .map((e) => path.join(root, e.name))
    .sort();
  if (dirs.length === 0) throw new Error(`no collection (a folder with corpus.jsonl) under ${root}`);
  return dirs;
}

/**
 * The odd/even split that chose the fusion constants (SEARCH_DEFAULTS): by position in the
 * collection's list of judged queries (1st, 3rd, ... odd), for ids of any form.
 */
function isOdd(queries: readonly CranfieldQuery[]): (q: CranfieldQuery) => boolean {
  const position = new Map(queries.map((q, i) => [q.id, i + 1]));
  return (q) => position.get(q.id)! % 2 === 1;
}

const NOISE = Number(process.env['BULKHEAD_EVAL_VECTOR_NOISE'] ?? 0);
if (!(NOISE >= 0 && NOISE <= 1)) throw new Error('BULKHEAD_EVAL_VECTOR_NOISE must be from 0 to 1');

const figures: Record<string, Record<string, number | string>> = {};
for (const collectionDir of collectionDirs()) figures[path.basename(collectionDir)] = await evaluate(collectionDir);
console.log(JSON.stringify(figures));

async function evaluate(collectionDir: string): Promise<Record<string, number | string>> {
  const name = path.basename(collectionDir);
  const loaded = loadCranfield(collectionDir);
  // Only judged queries count (as BEIR scores them).
  // --queries N: the first N of them only, a quick check while iterating (not the collection's figure).
  const at = process.argv.indexOf('--queries');
  const limit = at >= 0 ? Number(process.argv[at + 1]) : Infinity;
  if (!(limit > 0)) throw new Error('--queries needs a positive count');
  const c = { ...loaded, queries: loaded.queries.filter((q) => (loaded.qrels.get(q.id)?.size ?? 0) > 0).slice(0, limit) };
  const rules = { excludeOwnId: OWN_ID_COLLECTIONS.has(name.toLowerCase()) };
  const odd = isOdd(c.queries);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-eval-'));
  const vault = new Vault(path.join(dir, 'data'));

  try {
    // A fresh encrypted tenant with the settings a user gets: default embedder, chunker, search.
    await vault.initialize('evaluation passphrase');
    const tenant = vault.openSession().open(vault.createTenant('Retrieval evaluation').id);
    const ingestEmbedder = degraded(createEmbedder(tenant, readEmbedderConfig(tenant)));
    const { docsPerS, docToCranfield, chunks, empty } = await ingestCranfield(tenant, ingestEmbedder, c, dir);
    // The offline embedder learns the tenant's vocabulary: the first search starts it in the
    // background (term-space-job.ts); here it is awaited, and timed, so every query is scored on
    // the vectors a user has from then on.
    const tunedAt = performance.now();
    const tuning = NOISE === 0 ? await tuneOfflineEmbedder(tenant) : { kind: 'not-due' as const };
    const tuningMs = performance.now() - tunedAt;
    const embedder = degraded(createEmbedder(tenant, readEmbedderConfig(tenant)));
    tenant.db.pragma('wal_checkpoint(TRUNCATE)');

    // Warm-up (statement and page caches), not scored. Its first search, as a user's, finds no
    // fusion calibration and starts one in the background (calibration.ts); later searches use it.
    await runQueries(tenant, embedder, c, c.queries.slice(0, 10), docToCranfield, SEARCH_DEFAULTS, rules);
    await pendingCalibration(tenant);
    const calibration = readCalibration(tenant);
    // What the product's searchKnowledge fuses with now: the calibrated weight (or the default).
    const product = { ...SEARCH_DEFAULTS, vectorWeight: fusionWeightFor(tenant, embedder) };
    // Its cost, measured on its own (the same seeded queries, so the same answer).
    const calibratedAt = performance.now();
    const again = await calibrateTenant(tenant, embedder);
    const calibrationMs = performance.now() - calibratedAt;
    if (JSON.stringify(again) !== JSON.stringify(calibration)) throw new Error('calibration is not deterministic');
    const r = await runQueries(tenant, embedder, c, c.queries, docToCranfield, product, rules);
    const fixed = await runQueries(tenant, embedder, c, c.queries, docToCranfield, SEARCH_DEFAULTS, rules);
    const plain = await runQueries(tenant, embedder, c, c.queries, docToCranfield, { ...product, feedbackPassages: 0 }, rules);
    const oddRun = await runQueries(tenant, embedder, c, c.queries.filter(odd), docToCranfield, product, rules);
    const evenRun = await runQueries(
      tenant,
      embedder,
      c,
      c.queries.filter((q) => !odd(q)),
      docToCranfield,
      product,
      rules,
    );
    const tenantFile = path.join(vault.paths.tenants, `${tenant.id}.bulkhead`);
    vault.lock();
    const header = fs.readFileSync(tenantFile).subarray(0, 16).toString('latin1');
    const encrypted = header !== 'SQLite format 3\u0000';

    console.log(
      `== ${name}: ${c.docs.length} documents as .txt files through the ingestion pipeline (${chunks} chunks; ${empty} empty records refused), ${c.queries.length} judged queries${Number.isFinite(limit) ? ` (the first ${limit} only: a quick check)` : ''}${rules.excludeOwnId ? " (a query's own id left out)" : ''}, ${collectionDir}`,
    );
    console.log(`tenant: a fresh encrypted vault tenant; file header encrypted: ${encrypted}`);
    console.log(
      `embedder: ${embedder.id} (${embedder.dimension} dimensions); BM25 k1=1.2 b=0.75 over the term index (FTS5 for phrases); SimHash + int8 cosine`,
    );
    console.log(
      `offline embedder tuning: ${tuning.kind === 'tuned' ? `term space of ${tuning.config.dimension - 384} dimensions learnt from ${tuning.config.chunks} chunks and re-embedded in ${tuningMs.toFixed(0)} ms` : tuning.kind === 'skipped' ? `skipped (${tuning.reason})` : 'not due'}`,
    );
    console.log(`search defaults: ${JSON.stringify(SEARCH_DEFAULTS)}`);
    console.log(
      `fusion calibration (this tenant's own synthetic queries): ${calibration ? `vectorWeight ${calibration.vectorWeight} at ${calibration.chunks} chunks, ${calibration.queries} queries, ${calibrationMs.toFixed(0)} ms; nDCG@10 by weight ${JSON.stringify(calibration.scores)}` : 'none (default weight)'}`,
    );
    console.log('');
    console.log(`${'run'.padEnd(44)} nDCG@10    Recall@100`);
    console.log(row('BM25 alone (term index)', r.bm25));
    console.log(row("  FTS5's own bm25(), same terms", r.fts5Bm25));
    console.log(row('vectors alone', r.vector));
    console.log(row('fused (product default: RRF + feedback)', r.fused));
    console.log(row(`  fixed vectorWeight ${SEARCH_DEFAULTS.vectorWeight} (no calibration)`, fixed.fused));
    console.log(row('  its BM25 list (with expansion words)', r.fusedInputs.bm25));
    console.log(row('  its vector list (Rocchio query vector)', r.fusedInputs.vector));
    console.log(row('fused without feedback (plain RRF)', plain.fused));
    console.log(row('fused, odd-position queries (chose fusion)', oddRun.fused));
    console.log(row('fused, even-position queries (held out)', evenRun.fused));
    console.log('');
    console.log(`ingest: ${docsPerS.toFixed(0)} docs/s (embed + FTS + term index + vector tables, encrypted, synchronous=FULL)`);
    console.log(`query (one whole searchKnowledge call, top 10): p50 ${r.queryP50Ms.toFixed(2)} ms, p95 ${r.queryP95Ms.toFixed(2)} ms`);
    console.log('');
    return {
      bm25_ndcg_at_10: round(r.bm25.ndcgAt10),
      vector_ndcg_at_10: round(r.vector.ndcgAt10),
      fused_ndcg_at_10: round(r.fused.ndcgAt10),
      bm25_recall_at_100: round(r.bm25.recallAt100),
      vector_recall_at_100: round(r.vector.recallAt100),
      fused_recall_at_100: round(r.fused.recallAt100),
      fused_fixed_weight_ndcg_at_10: round(fixed.fused.ndcgAt10),
      fused_fixed_weight_recall_at_100: round(fixed.fused.recallAt100),
      calibrated_vector_weight: calibration?.vectorWeight ?? SEARCH_DEFAULTS.vectorWeight,
      calibration_ms: round(calibrationMs, 1),
      fused_odd_ndcg_at_10: round(oddRun.fused.ndcgAt10),
      fused_even_ndcg_at_10: round(evenRun.fused.ndcgAt10),
      fused_odd_recall_at_100: round(oddRun.fused.recallAt100),
      fused_even_recall_at_100: round(evenRun.fused.recallAt100),
      fused_no_feedback_ndcg_at_10: round(plain.fused.ndcgAt10),
      fused_no_feedback_recall_at_100: round(plain.fused.recallAt100),
      fts5_bm25_ndcg_at_10: round(r.fts5Bm25.ndcgAt10),
      fts5_bm25_recall_at_100: round(r.fts5Bm25.recallAt100),
      query_p50_ms: round(r.queryP50Ms, 2),
      query_p95_ms: round(r.queryP95Ms, 2),
      ingest_docs_per_s: round(docsPerS, 1),
      tuning_ms: round(tuningMs, 0),
      embedder: embedder.id,
      vector_noise: NOISE,
      dimension: embedder.dimension,
      queries: c.queries.length,
      documents: c.docs.length,
    };
  } finally {
    vault.lock();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Bench only, never the product: BULKHEAD_EVAL_VECTOR_NOISE=λ (0 to 1) mixes each vector with a
 * random unit vector seeded by its text, v = (1 − λ)·v + λ·noise (λ = 1: pure noise), to stand for
 * a collection the vector side suits badly. A different embedder id, so nothing mistakes it.
 */
function degraded(embedder: Embedder): Embedder {
  if (NOISE === 0) return embedder;
  const unit = (v: Float32Array): Float32Array => {
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  const noise = (text: string): Float32Array => {
    const seed = crypto.createHash('sha256').update(text).digest();
    const out = new Float32Array(embedder.dimension);
    for (let i = 0; i < out.length; i++) {
      const h = crypto.createHash('sha256').update(seed).update(String(i)).digest();
      out[i] = h.readInt32LE(0) / 2 ** 31;
    }
    return unit(out);
  };
  return {
    id: `${embedder.id}:noise-${NOISE}`,
    dimension: embedder.dimension,
    embed: async (texts, signal) => {
      const vectors = await embedder.embed(texts, signal);
      return vectors.map((v, i) => {
        const r = noise(texts[i]!);
        const u = unit(v);
        return unit(u.map((x, j) => (1 - NOISE) * x + NOISE * r[j]!));
      });
    },
  };
}
