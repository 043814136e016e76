// Research prototype (not product code, not run by CI): dumps one collection's chunks (as index stems), queries, judgements,
// the product's BM25 / vector lists and the hash-v1 vectors, for the numpy experiments in this folder (README.md).
//   npx tsx bench/prototypes/term-space/dump-lists.ts ../shared/datasets/cranfield bench/prototypes/term-space/cranfield.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEmbedder } from '../../../src-main/embed/index.js';
import { readEmbedderConfig } from '../../../src-main/embed/settings.js';
import { bm25TopK, hybridRank, SEARCH_DEFAULTS } from '../../../src-main/retrieval/search.js';
import { indexWords } from '../../../src-main/text/words.js';
import { porterStem } from '../../../src-main/text/porter.js';
import { searchableQuery } from '../../../src-main/retrieval/by-example.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { judgementsFor, loadCranfield, OWN_ID_COLLECTIONS } from '../../cranfield.js';
import { ingestCranfield } from '../../evaluate.js';

const dir = path.resolve(process.argv[2]!);
const out = process.argv[3]!;
const name = path.basename(dir);
const loaded = loadCranfield(dir);
const c = { ...loaded, queries: loaded.queries.filter((q) => (loaded.qrels.get(q.id)?.size ?? 0) > 0) };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-dump-'));
const vault = new Vault(path.join(work, 'data'));
await vault.initialize('evaluation passphrase');
const tenant = vault.openSession().open(vault.createTenant('dump').id);
const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
const { docToCranfield } = await ingestCranfield(tenant, embedder, c, work);
const rows = tenant.db.prepare('SELECT id, document_id, text FROM chunks ORDER BY id').all() as { id: number; document_id: number; text: string }[];
const chunks = rows.map((r) => ({
  id: r.id,
  doc: docToCranfield.get(r.document_id) ?? `chunk:${r.id}`,
  stems: indexWords(r.text).map(porterStem),
}));
const queries = [];
for (const q of c.queries) {
  const ranking = await hybridRank(tenant, embedder, q.text, SEARCH_DEFAULTS);
  const plain = bm25TopK(tenant, q.text, 200);
  queries.push({
    id: q.id,
    own: OWN_ID_COLLECTIONS.has(name.toLowerCase()) ? q.id : null,
    stems: indexWords(ranking.searchedText).map(porterStem),
    judged: Object.fromEntries(judgementsFor(c, q.id)),
    bm25x: ranking.bm25.map((h) => h.chunkId),
    vecr: ranking.vector.map((h) => h.chunkId),
    bm25: plain.map((h) => h.chunkId),
  });
}
fs.writeFileSync(out, JSON.stringify({ name, chunks, queries }));
// The default embedder's vectors (hash-v1) of every chunk and query, row after row, as float32.
const flat = (vectors: Float32Array[]): Buffer => {
  const all = new Float32Array(vectors.length * embedder.dimension);
  vectors.forEach((v, i) => all.set(v, i * embedder.dimension));
  return Buffer.from(all.buffer);
};
fs.writeFileSync(`${out}.cv`, flat(await embedder.embed(rows.map((r) => r.text))));
fs.writeFileSync(`${out}.qv`, flat(await embedder.embed(c.queries.map((q) => searchableQuery(tenant, q.text).embed))));
vault.lock();
fs.rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify({ collection: name, chunks: chunks.length, queries: queries.length }));
