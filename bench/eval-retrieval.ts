// Retrieval quality and speed of the product defaults on Cranfield 1400 (BEIR layout):
//   npm run eval:retrieval
// Writes every document as a .txt file (title line, then the abstract), ingests the folder into a
// fresh encrypted tenant through the normal pipeline (parser, token chunker, default embedder),
// runs all 225 queries, and prints nDCG@10 and Recall@100 for plain BM25, plain vectors and the
// product's hybrid search, then timings. The last line is one JSON object. No setting here looks
// at the judgements: they are only used to score.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEmbedder } from '../src-main/embed/index.js';
import { readEmbedderConfig } from '../src-main/embed/settings.js';
import { SEARCH_DEFAULTS } from '../src-main/retrieval/search.js';
import { Vault } from '../src-main/vault/vault.js';
import { CRANFIELD_DIR, loadCranfield } from './cranfield.js';
import type { Scores } from './evaluate.js';
import { ingestCranfield, runQueries } from './evaluate.js';

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
const row = (name: string, s: Scores): string => `${name.padEnd(44)} ${s.ndcgAt10.toFixed(4)}     ${s.recallAt100.toFixed(4)}`;

const c = loadCranfield();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-eval-'));
const vault = new Vault(path.join(dir, 'data'));

try {
  // A fresh encrypted tenant with the settings a user gets: default embedder, chunker, search.
  await vault.initialize('evaluation passphrase');
  const tenant = vault.openSession().open(vault.createTenant('Cranfield evaluation').id);
  const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
  const { docsPerS, docToCranfield, chunks, empty } = await ingestCranfield(tenant, embedder, c, dir);
  tenant.db.pragma('wal_checkpoint(TRUNCATE)');

  // Warm-up (statement and page caches), not scored.
  await runQueries(tenant, embedder, c, c.queries.slice(0, 10), docToCranfield, SEARCH_DEFAULTS);
  const r = await runQueries(tenant, embedder, c, c.queries, docToCranfield, SEARCH_DEFAULTS);
  const plain = await runQueries(tenant, embedder, c, c.queries, docToCranfield, { ...SEARCH_DEFAULTS, feedbackPassages: 0 });
  const odd = await runQueries(tenant, embedder, c, c.queries.filter((q) => Number(q.id) % 2 === 1), docToCranfield, SEARCH_DEFAULTS);
  const even = await runQueries(tenant, embedder, c, c.queries.filter((q) => Number(q.id) % 2 === 0), docToCranfield, SEARCH_DEFAULTS);
  const tenantFile = path.join(vault.paths.tenants, `${tenant.id}.bulkhead`);
  vault.lock();
  const header = fs.readFileSync(tenantFile).subarray(0, 16).toString('latin1');
  const encrypted = header !== 'SQLite format 3\u0000';

  console.log(`Cranfield: ${c.docs.length} documents as .txt files through the ingestion pipeline (${chunks} chunks; ${empty} empty records refused), ${c.queries.length} queries, ${CRANFIELD_DIR}`);
  console.log(`tenant: a fresh encrypted vault tenant; file header encrypted: ${encrypted}`);
  console.log(`embedder: ${embedder.id} (${embedder.dimension} dimensions); BM25 k1=1.2 b=0.75 over the term index (FTS5 for phrases); SimHash + int8 cosine`);
  console.log(`search defaults: ${JSON.stringify(SEARCH_DEFAULTS)}`);
  console.log('');
  console.log(`${'run'.padEnd(44)} nDCG@10    Recall@100`);
  console.log(row('BM25 alone (term index)', r.bm25));
  console.log(row("  FTS5's own bm25(), same terms", r.fts5Bm25));
  console.log(row('vectors alone', r.vector));
  console.log(row('fused (product default: RRF + feedback)', r.fused));
  console.log(row('  its BM25 list (with expansion words)', r.fusedInputs.bm25));
  console.log(row('  its vector list (Rocchio query vector)', r.fusedInputs.vector));
  console.log(row('fused without feedback (plain RRF)', plain.fused));
  console.log(row('fused, odd queries (used to pick settings)', odd.fused));
  console.log(row('fused, even queries (held out)', even.fused));
  console.log('');
  console.log(`ingest: ${docsPerS.toFixed(0)} docs/s (embed + FTS + term index + vector tables, encrypted, synchronous=FULL)`);
  console.log(`query (one whole searchKnowledge call, top 10): p50 ${r.queryP50Ms.toFixed(2)} ms, p95 ${r.queryP95Ms.toFixed(2)} ms`);
  console.log(
    JSON.stringify({
      bm25_ndcg_at_10: round(r.bm25.ndcgAt10),
      vector_ndcg_at_10: round(r.vector.ndcgAt10),
      fused_ndcg_at_10: round(r.fused.ndcgAt10),
      bm25_recall_at_100: round(r.bm25.recallAt100),
      vector_recall_at_100: round(r.vector.recallAt100),
      fused_recall_at_100: round(r.fused.recallAt100),
      fused_no_feedback_ndcg_at_10: round(plain.fused.ndcgAt10),
      fused_no_feedback_recall_at_100: round(plain.fused.recallAt100),
      fts5_bm25_ndcg_at_10: round(r.fts5Bm25.ndcgAt10),
      fts5_bm25_recall_at_100: round(r.fts5Bm25.recallAt100),
      query_p50_ms: round(r.queryP50Ms, 2),
      query_p95_ms: round(r.queryP95Ms, 2),
      ingest_docs_per_s: round(docsPerS, 1),
      embedder: embedder.id,
      dimension: embedder.dimension,
      queries: c.queries.length,
      documents: c.docs.length,
    }),
  );
} finally {
  vault.lock();
  fs.rmSync(dir, { recursive: true, force: true });
}
