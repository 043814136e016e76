// How the fusion constants of SEARCH_DEFAULTS (rrfK, vectorWeight, longQueryVectorWeight) were
// chosen, reproducibly:
//   npm run build && node dist/bench/tune-fusion.js [--dataset DIR ...]
// Each collection (default: cranfield, nfcorpus and arguana under ../shared/datasets) is ingested
// into a fresh encrypted tenant as bench/eval-retrieval.ts does, its offline embedder tuned, and
// every judged query runs once through hybridRank with the product's feedback settings: the two
// lists it fuses do not depend on the fusion constants, so each set of constants is then scored
// on the same lists. The choice looks at the odd-position queries only (1st, 3rd, ... of each
// collection's judged queries), in two steps: short queries choose rrfK and the vector weight,
// then long ones (searches by example, more than longQueryTerms distinct terms) their own weight.
// Each step takes the largest mean, over the collections with at least 20 such queries, of the
// relative nDCG@10 gain over the constants before (one weight for every query), among those whose
// Recall@100 is no more than 0.5% lower on any of them; and keeps it only if the held-out
// even-position queries agree (no collection lower there), else the constants before stay. The judgements are only used here, to score; nothing the product runs sees them. The
// last line is one JSON object.
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

const RRF_KS = [5, 10, 20, 40, 60];
const VECTOR_WEIGHTS = [0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 1, 1.25, 1.5, 2];
const LONG_WEIGHTS = [0.6, 1, 1.5, 2, 3, 4, 6];
/** The baseline: the constants the product had before the long-query weight (one weight for every query). */
const OLD = { rrfK: SEARCH_DEFAULTS.rrfK, vectorWeight: SEARCH_DEFAULTS.vectorWeight, longWeight: SEARCH_DEFAULTS.vectorWeight };
/** A collection takes part in a choice with at least this many odd-position queries of the kind. */
const MIN_QUERIES = 20;

interface Lists {
  readonly judged: ReadonlyMap<string, number>;
  readonly own: string | null;
  readonly bm25: RankedHit[];
  readonly vector: RankedHit[];
  /** A search by example (hybridRank's longQuery): it fuses with its own weight. */
  readonly long: boolean;
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
        long: ranking.longQuery,
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
  readonly queries: number;
}

interface Constants {
  readonly rrfK: number;
  readonly vectorWeight: number;
  readonly longWeight: number;
}

type Kind = 'short' | 'long' | 'all';

/** nDCG@10 and Recall@100 of some constants over the odd or even positions, for queries of one kind. */
function score(c: Collection, k: Constants, parity: 0 | 1, kind: Kind = 'all'): Figures {
  const ndcg: number[] = [];
  const recall: number[] = [];
  c.queries.forEach((q, i) => {
    if (i % 2 !== parity || (kind === 'short' && q.long) || (kind === 'long' && !q.long)) return;
    const docs = new Set<string>();
    const vectorWeight = q.long ? k.longWeight : k.vectorWeight;
    for (const h of fuseRrf(q.bm25, q.vector, { rrfK: k.rrfK, bm25Weight: 1, vectorWeight })) docs.add(c.chunkDoc.get(h.chunkId)!);
    if (q.own !== null) docs.delete(q.own);
    const ranked = [...docs].slice(0, 100);
    ndcg.push(ndcgAt(ranked, q.judged, 10));
    recall.push(recallAt(ranked, q.judged, 100));
  });
  return { ndcg: ndcg.length ? mean(ndcg) : 0, recall: recall.length ? mean(recall) : 0, queries: ndcg.length };
}

const collections: Collection[] = [];
for (const dir of datasetDirs()) collections.push(await lists(dir));
const ODD = 0; // index 0 is the 1st query
const EVEN = 1;

/**
 * Among `candidates`, the one with the largest mean relative nDCG@10 gain over OLD on the odd
 * positions of the queries of `kind`, in the collections with enough of them, whose Recall@100 is
 * no lower than OLD's on any of them. Prints every candidate.
 */
function choose(kind: Kind, candidates: Constants[]): Constants {
  const taking = collections.filter((c) => score(c, OLD, ODD, kind).queries >= MIN_QUERIES);
  const old = taking.map((c) => score(c, OLD, ODD, kind));
  console.log('');
  console.log(`${kind} queries, odd positions (${taking.map((c, i) => `${c.name} ${old[i]!.queries}`).join(', ')}):`);
  console.log(`${'rrfK'.padEnd(5)} ${'weight'.padEnd(7)} ${'long'.padEnd(5)} ${taking.map((c) => c.name.padEnd(16)).join(' ')} gain`);
  const scored = candidates.map((k) => {
    const odd = taking.map((c) => score(c, k, ODD, kind));
    const gain = mean(odd.map((f, i) => f.ndcg / old[i]!.ndcg - 1));
    // Recall@100 may not drop by more than 0.5% of itself (at 0.99 and above it is saturated: 0.003 is two queries in 700).
    const recallKept = odd.every((f, i) => f.recall >= old[i]!.recall * 0.995 - 1e-9);
    console.log(
      `${String(k.rrfK).padEnd(5)} ${String(k.vectorWeight).padEnd(7)} ${String(k.longWeight).padEnd(5)} ${odd.map((o) => `${o.ndcg.toFixed(4)}/${o.recall.toFixed(3)}`.padEnd(16)).join(' ')} ${(100 * gain).toFixed(2)}%${recallKept ? '' : ' (recall lower)'}`,
    );
    return { k, gain, recallKept };
  });
  const best = scored.filter((x) => x.recallKept).sort((a, b) => b.gain - a.gain || a.k.rrfK - b.k.rrfK)[0]!.k;
  // Kept only if the held-out half agrees: no collection's even-position nDCG@10 lower than before.
  const held = taking.map((c) => ({ name: c.name, before: score(c, OLD, EVEN, kind).ndcg, after: score(c, best, EVEN, kind).ndcg }));
  const agrees = held.every((h) => h.after >= h.before);
  console.log(
    `best on odd: rrfK ${best.rrfK}, weight ${best.vectorWeight}, long ${best.longWeight}; even positions ${held.map((h) => `${h.name} ${h.before.toFixed(4)} -> ${h.after.toFixed(4)}`).join(', ')}: ${agrees ? 'kept' : 'not confirmed, the constants before stay'}`,
  );
  return agrees ? best : { ...best, rrfK: OLD.rrfK, ...(kind === 'short' ? { vectorWeight: OLD.vectorWeight } : { longWeight: OLD.longWeight }) };
}

// Short queries choose rrfK and the vector weight; long ones then choose their weight at that rrfK.
const short = choose(
  'short',
  RRF_KS.flatMap((rrfK) => VECTOR_WEIGHTS.map((vectorWeight) => ({ rrfK, vectorWeight, longWeight: OLD.longWeight }))),
);
const chosen = choose(
  'long',
  LONG_WEIGHTS.map((longWeight) => ({ ...short, longWeight })),
);
const f = (x: Figures): string => `${x.ndcg.toFixed(4)} / ${x.recall.toFixed(4)}`;
console.log('');
console.log(
  `chosen on the odd positions: rrfK ${chosen.rrfK}, vectorWeight ${chosen.vectorWeight}, longQueryVectorWeight ${chosen.longWeight} (before: ${OLD.rrfK}, ${OLD.vectorWeight}, ${OLD.longWeight})`,
);
console.log(
  `${'collection'.padEnd(12)} ${'odd, old'.padEnd(18)} ${'odd, chosen'.padEnd(18)} ${'even, old'.padEnd(18)} even, chosen (held out; every query; nDCG@10 / Recall@100)`,
);
const table = collections.map((c) => ({
  c,
  oddOld: score(c, OLD, ODD),
  oddNew: score(c, chosen, ODD),
  evenOld: score(c, OLD, EVEN),
  evenNew: score(c, chosen, EVEN),
}));
for (const t of table) console.log(`${t.c.name.padEnd(12)} ${f(t.oddOld).padEnd(18)} ${f(t.oddNew).padEnd(18)} ${f(t.evenOld).padEnd(18)} ${f(t.evenNew)}`);
const round = (x: number): number => Number(x.toFixed(4));
console.log(
  JSON.stringify({
    chosen_rrf_k: chosen.rrfK,
    chosen_vector_weight: chosen.vectorWeight,
    chosen_long_query_vector_weight: chosen.longWeight,
    ...Object.fromEntries(
      table.map((t) => [
        t.c.name,
        {
          long_queries: t.c.queries.filter((q) => q.long).length,
          odd_old_ndcg_at_10: round(t.oddOld.ndcg),
          odd_chosen_ndcg_at_10: round(t.oddNew.ndcg),
          even_old_ndcg_at_10: round(t.evenOld.ndcg),
          even_chosen_ndcg_at_10: round(t.evenNew.ndcg),
          even_old_recall_at_100: round(t.evenOld.recall),
          even_chosen_recall_at_100: round(t.evenNew.recall),
        },
      ]),
    ),
  }),
);
