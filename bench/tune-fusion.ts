// How the fusion constants of SEARCH_DEFAULTS (rrfK, vectorWeight) were chosen, reproducibly:
//   npm run build && node dist/bench/tune-fusion.js [--dataset DIR ...]
// Each collection (default: cranfield, nfcorpus and arguana under ../shared/datasets) is ingested
// into a fresh encrypted tenant as bench/eval-retrieval.ts does, and every judged query runs once
// through hybridRank with the product's feedback settings: the two lists it fuses do not depend
// on the fusion constants, so each pair of constants is then scored on the same lists. The choice
// looks at the odd-position queries only (1st, 3rd, ... of each collection's judged queries): the
// largest mean, over the collections, of the relative nDCG@10 gain over the old constants (rrfK
// 60, equal weights), among the pairs whose Recall@100 is no lower than the old constants' on any
// collection. The even-position queries are held out and printed beside. The judgements are only
// used here, to score; nothing the product runs sees them. The last line is one JSON object.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbedder } from '../src-main/embed/index.js';
import { readEmbedderConfig } from '../src-main/embed/settings.js';
import { fuseRrf, hybridRank, type RankedHit, SEARCH_DEFAULTS } from '../src-main/retrieval/search.js';
import { Vault } from '../src-main/vault/vault.js';
import { judgementsFor, loadCranfield, OWN_ID_COLLECTIONS } from './cranfield.js';
import { ingestCranfield } from './evaluate.js';
import { tuneOfflineEmbedder } from '../src-main/retrieval/term-space-job.js';
import { mean, ndcgAt, recallAt } from './metrics.js';

const RRF_KS = [5, 10, 15, 20, 30, 40, 60];
const VECTOR_WEIGHTS = [0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 1, 1.25, 1.5, 2];
const OLD = { rrfK: 60, vectorWeight: 1 };

interface Lists {
  readonly judged: ReadonlyMap<string, number>;
  readonly own: string | null;
  readonly bm25: RankedHit[];
  readonly vector: RankedHit[];
}

interface Collection {
  readonly name: string;
  readonly chunkDoc: ReadonlyMap<number, string>;
  readonly queries: Lists[];
}

function datasetDirs(): string[] {
  const dirs = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--dataset' ? [path.resolve(a)] : []));
  if (dirs.length > 0) return dirs;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const repo = [path.resolve(here, '..', '..'), path.resolve(here, '..')].find((d) => fs.existsSync(path.join(d, 'package.json')))!;
  const root = process.env['BULKHEAD_DATASETS'] ?? path.resolve(repo, '..', 'shared', 'datasets');
  return ['cranfield', 'nfcorpus', 'arguana'].map((n) => path.join(root, n));
}

async function lists(dir: string): Promise<Collection> {
  const name = path.basename(dir);
  const loaded = loadCranfield(dir);
  const c = { ...loaded, queries: loaded.queries.filter((q) => (loaded.qrels.get(q.id)?.size ?? 0) > 0) };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-tune-'));
  const vault = new Vault(path.join(work, 'data'));
  try {
    await vault.initialize('evaluation passphrase');
    const tenant = vault.openSession().open(vault.createTenant('Fusion tuning').id);
    const { docToCranfield } = await ingestCranfield(tenant, createEmbedder(tenant, readEmbedderConfig(tenant)), c, work);
    // The vectors a user's searches get: the offline embedder tuned to this tenant.
    await tuneOfflineEmbedder(tenant);
    const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
    const chunkDoc = new Map(
      (tenant.db.prepare('SELECT id, document_id FROM chunks').all() as { id: number; document_id: number }[]).map((r) => [
        r.id,
        docToCranfield.get(r.document_id) ?? `chunk:${r.id}`,
      ]),
    );
    const queries: Lists[] = [];
    for (const q of c.queries) {
      const ranking = await hybridRank(tenant, embedder, q.text, SEARCH_DEFAULTS);
      queries.push({
        judged: judgementsFor(c, q.id),
        own: OWN_ID_COLLECTIONS.has(name.toLowerCase()) ? q.id : null,
        bm25: ranking.bm25,
        vector: ranking.vector,
      });
    }
    console.log(`${name}: ${c.docs.length} documents, ${queries.length} judged queries`);
    return { name, chunkDoc, queries };
  } finally {
    vault.lock();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

interface Figures {
  readonly ndcg: number;
  readonly recall: number;
}

/** nDCG@10 and Recall@100 of one pair of constants over the odd or even positions. */
function score(c: Collection, rrfK: number, vectorWeight: number, parity: 0 | 1): Figures {
  const ndcg: number[] = [];
  const recall: number[] = [];
  c.queries.forEach((q, i) => {
    if (i % 2 !== parity) return;
    const docs = new Set<string>();
    for (const h of fuseRrf(q.bm25, q.vector, { rrfK, bm25Weight: 1, vectorWeight })) docs.add(c.chunkDoc.get(h.chunkId)!);
    if (q.own !== null) docs.delete(q.own);
    const ranked = [...docs].slice(0, 100);
    ndcg.push(ndcgAt(ranked, q.judged, 10));
    recall.push(recallAt(ranked, q.judged, 100));
  });
  return { ndcg: mean(ndcg), recall: mean(recall) };
}

const collections: Collection[] = [];
for (const dir of datasetDirs()) collections.push(await lists(dir));
const ODD = 0; // index 0 is the 1st query
const EVEN = 1;
const old = collections.map((c) => ({ odd: score(c, OLD.rrfK, OLD.vectorWeight, ODD), even: score(c, OLD.rrfK, OLD.vectorWeight, EVEN) }));
const candidates = RRF_KS.flatMap((rrfK) =>
  VECTOR_WEIGHTS.map((vectorWeight) => {
    const odd = collections.map((c) => score(c, rrfK, vectorWeight, ODD));
    const gain = mean(odd.map((f, i) => f.ndcg / old[i]!.odd.ndcg - 1));
    const recallKept = odd.every((f, i) => f.recall >= old[i]!.odd.recall - 1e-9);
    return { rrfK, vectorWeight, odd, gain, recallKept };
  }),
);
const chosen = candidates.filter((x) => x.recallKept).sort((a, b) => b.gain - a.gain || a.rrfK - b.rrfK)[0]!;
const heldOut = collections.map((c) => score(c, chosen.rrfK, chosen.vectorWeight, EVEN));
const f = (x: Figures): string => `${x.ndcg.toFixed(4)} / ${x.recall.toFixed(4)}`;
console.log('');
console.log(
  `chosen on the odd positions: rrfK ${chosen.rrfK}, vectorWeight ${chosen.vectorWeight} (mean relative nDCG@10 gain ${(100 * chosen.gain).toFixed(2)}%)`,
);
console.log(
  `${'collection'.padEnd(12)} ${'odd, old'.padEnd(18)} ${'odd, chosen'.padEnd(18)} ${'even, old'.padEnd(18)} even, chosen (held out; nDCG@10 / Recall@100)`,
);
collections.forEach((c, i) =>
  console.log(`${c.name.padEnd(12)} ${f(old[i]!.odd).padEnd(18)} ${f(chosen.odd[i]!).padEnd(18)} ${f(old[i]!.even).padEnd(18)} ${f(heldOut[i]!)}`),
);
const round = (x: number): number => Number(x.toFixed(4));
console.log(
  JSON.stringify({
    chosen_rrf_k: chosen.rrfK,
    chosen_vector_weight: chosen.vectorWeight,
    odd_mean_relative_gain: round(chosen.gain),
    ...Object.fromEntries(
      collections.map((c, i) => [
        c.name,
        {
          odd_old_ndcg_at_10: round(old[i]!.odd.ndcg),
          odd_chosen_ndcg_at_10: round(chosen.odd[i]!.ndcg),
          even_old_ndcg_at_10: round(old[i]!.even.ndcg),
          even_chosen_ndcg_at_10: round(heldOut[i]!.ndcg),
          even_old_recall_at_100: round(old[i]!.even.recall),
          even_chosen_recall_at_100: round(heldOut[i]!.recall),
        },
      ]),
    ),
  }),
);
