import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../src-main/embed/embedder.js';
import { ingestPaths } from '../src-main/ingest/pipeline.js';
import { searchKnowledge } from '../src-main/retrieval/knowledge.js';
import { bm25TopK, embedQuery, fts5Bm25TopK, hybridRank, vectorTopK } from '../src-main/retrieval/search.js';
import type { SearchOptions } from '../src-main/retrieval/search.js';
import { activeVectorIndex } from '../src-main/index/vectors.js';
import type { TenantHandle } from '../src-main/vault/handle.js';
import type { Cranfield, CranfieldQuery } from './cranfield.js';
import { judgementsFor } from './cranfield.js';
import { mean, ndcgAt, percentile, recallAt } from './metrics.js';

export interface Scores {
  readonly ndcgAt10: number;
  readonly recallAt100: number;
}

export interface RunResult {
  /** Plain BM25 for the user's terms, as the product ranks (bm25TopK: the term index for words). */
  readonly bm25: Scores;
  /** FTS5's own bm25() for the same terms, for comparison. */
  readonly fts5Bm25: Scores;
  /** Plain KNN for the embedded query. */
  readonly vector: Scores;
  /** The product's hybrid ranking (`hybridRank` with the given options). */
  readonly fused: Scores;
  /** The two lists the fusion combined (after feedback, when it is on). */
  readonly fusedInputs: { readonly bm25: Scores; readonly vector: Scores };
  readonly queryP50Ms: number;
  readonly queryP95Ms: number;
}

/**
 * Writes each Cranfield document as a .txt file (title line, then the abstract) and pours the
 * folder in through the product's ingestion pipeline: parser, chunker, embedder, one
 * transaction per document. Returns docs/s and the map from Bulkhead document id to Cranfield id.
 */
export async function ingestCranfield(
  tenant: TenantHandle,
  embedder: Embedder,
  c: Cranfield,
  workDir: string,
): Promise<{ docsPerS: number; docToCranfield: Map<number, string>; chunks: number; empty: number }> {
  const folder = path.join(workDir, 'collection-docs');
  fs.mkdirSync(folder, { recursive: true });
  // Files named by id when every id makes a plain file name (Cranfield's: the ingestion order, and
  // so the chunk ids that break ties, stay as they were), else by position; mapped back below.
  const byId = c.docs.every((d) => /^[A-Za-z0-9_-]{1,100}$/.test(d.id)) && new Set(c.docs.map((d) => d.id.toLowerCase())).size === c.docs.length;
  const fileOf = new Map<string, string>();
  c.docs.forEach((d, i) => {
    const base = byId ? d.id : String(i);
    fileOf.set(base, d.id);
    fs.writeFileSync(path.join(folder, `${base}.txt`), `${d.title}\n${d.text}\n`);
  });
  const started = performance.now();
  const summary = await ingestPaths(tenant, [folder], { embedder });
  const seconds = (performance.now() - started) / 1000;
  // Records with neither title nor text (Cranfield 471, 995) are refused as EMPTY, like any empty file.
  const unexpected = summary.files.filter((f) => f.status === 'failed' && f.code !== 'EMPTY');
  if (unexpected.length > 0 || summary.added + summary.failed !== c.docs.length) {
    throw new Error(
      `ingested ${summary.added} of ${c.docs.length} documents; failures: ${unexpected
        .slice(0, 5)
        .map((f) => `${path.basename(f.path)}: ${f.reason}`)
        .join('; ')}`,
    );
  }
  const docToCranfield = new Map<number, string>();
  for (const f of summary.files) if (f.documentId !== undefined) docToCranfield.set(f.documentId, fileOf.get(path.basename(f.path, '.txt'))!);
  return { docsPerS: c.docs.length / seconds, docToCranfield, chunks: summary.chunks, empty: summary.failed };
}

function score(runs: string[][], c: Cranfield, queries: readonly CranfieldQuery[]): Scores {
  return {
    ndcgAt10: mean(queries.map((q, i) => ndcgAt(runs[i]!, judgementsFor(c, q.id), 10))),
    recallAt100: mean(queries.map((q, i) => recallAt(runs[i]!, judgementsFor(c, q.id), 100))),
  };
}

/**
 * Runs every query through plain BM25, plain vectors and the product's hybrid ranking, turning
 * chunk lists into document lists (a document ranks where its best chunk does). The timing is
 * of what a user runs: one whole `searchKnowledge` call for the top 10 passages.
 */
export async function runQueries(
  tenant: TenantHandle,
  embedder: Embedder,
  c: Cranfield,
  queries: readonly CranfieldQuery[],
  docToCranfield: ReadonlyMap<number, string>,
  opts: Partial<SearchOptions>,
  rules: { excludeOwnId?: boolean } = {},
): Promise<RunResult> {
  const chunkDoc = new Map<number, number>(
    (tenant.db.prepare('SELECT id, document_id FROM chunks').all() as { id: number; document_id: number }[]).map((r) => [r.id, r.document_id]),
  );
  // BEIR's rule for ArguAna: a query's own document (the same id) is left out of its ranking.
  let own = '';
  const toDocs = (chunkIds: number[]): string[] => {
    const seen = new Set<string>();
    for (const id of chunkIds) seen.add(docToCranfield.get(chunkDoc.get(id) ?? -1) ?? `chunk:${id}`);
    if (rules.excludeOwnId) seen.delete(own);
    return [...seen].slice(0, 100);
  };
  const index = activeVectorIndex(tenant);
  if (!index) throw new Error('no vector index after ingestion');
  const runs = {
    fts5: [] as string[][],
    bm25: [] as string[][],
    vector: [] as string[][],
    fused: [] as string[][],
    inBm25: [] as string[][],
    inVector: [] as string[][],
  };
  const times: number[] = [];
  for (const q of queries) {
    own = q.id;
    const t0 = performance.now();
    await searchKnowledge(tenant, q.text, { k: 10, embedder });
    times.push(performance.now() - t0);
    const lists = await hybridRank(tenant, embedder, q.text, opts);
    runs.fused.push(toDocs(lists.fused.map((h) => h.chunkId)));
    runs.inBm25.push(toDocs(lists.bm25.map((h) => h.chunkId)));
    runs.inVector.push(toDocs(lists.vector.map((h) => h.chunkId)));
    runs.bm25.push(toDocs(bm25TopK(tenant, q.text, 200).map((h) => h.chunkId)));
    runs.fts5.push(toDocs(fts5Bm25TopK(tenant, q.text, 200).map((h) => h.chunkId)));
    runs.vector.push(toDocs(vectorTopK(tenant, index, await embedQuery(embedder, q.text), 200).map((h) => h.chunkId)));
  }
  return {
    bm25: score(runs.bm25, c, queries),
    fts5Bm25: score(runs.fts5, c, queries),
    vector: score(runs.vector, c, queries),
    fused: score(runs.fused, c, queries),
    fusedInputs: { bm25: score(runs.inBm25, c, queries), vector: score(runs.inVector, c, queries) },
    queryP50Ms: percentile(times, 0.5),
    queryP95Ms: percentile(times, 0.95),
  };
}
