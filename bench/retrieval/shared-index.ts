// Baseline "shared index" (the design Bulkhead chose not to build): ONE encrypted SQLite file for
// all tenants, every row tagged with a tenant_id, and every statement filtered by it:
//  - FTS5 with the product's tokenizer and `tenant_id UNINDEXED` (contentless like the product's,
//    with contentless_unindexed=1 so the tenant column can be read back for the filter);
//  - the product's vector technique, shared: SimHash codes in a plain table with a tenant_id
//    column and an index on (tenant_id, chunk_id), read once per tenant into memory like the
//    product's code cache (CodeSet.nearest), then int8 copies re-ranked by cosine in SQLite with the
//    tenant filter; document frequencies in term_stats keyed by (tenant, term).
//  - the product's term index (index/term-index.ts; scored as index/term-scorer.ts does, see
//    shared-term-scorer.ts), shared: one set of postings per stem for
//    all tenants, each posting checked against the chunk's tenant (a tenant_id per chunk id, read
//    into memory once), as FTS5 above checks its tenant_id column.
// The query mirrors the product's hybridRank step by step (BM25 over the term index for word
// queries, RM3-style feedback, the expansion words added to the same sums, Rocchio-moved
// two-stage KNN, weighted RRF, then searchKnowledge's passage fetch; FTS5 with common-term pruning
// for other queries), reusing its exported functions. It mirrors hybridRank as written on
// 2026-11-23 (term index commit): when hybridRank changes, change `search` below with it. What a
// shared index cannot do per tenant is said where it happens (BM25 statistics, FTS5's and the
// term index's, are global to the file).
import crypto from 'node:crypto';
import type Database from 'better-sqlite3-multiple-ciphers';
import type { Embedder } from '../../src-main/embed/embedder.js';
import { porterStem, porterStemCached } from '../../src-main/text/porter.js';
import { rocchio } from '../../src-main/retrieval/feedback.js';
import { FTS_TOKENIZE, ftsIndexText, queryWords, quoteFtsTerm } from '../../src-main/index/fts.js';
import {
  embedQuery,
  fuseRrf,
  indexedStems,
  RERANK_BATCH,
  SEARCH_DEFAULTS,
  termSide,
  withExpansion,
  type FullTextSide,
  type RankedHit,
  type SearchOptions,
} from '../../src-main/retrieval/search.js';
import { mergePendingTerms } from '../../src-main/index/term-index.js';
import { parseCodeRows } from '../../src-main/index/code-pack.js';
import { CodeSet } from '../../src-main/index/code-set.js';
import { TERM_INDEX_TABLES } from '../../src-main/vault/migrations/tenant/0006-term-index.js';
import { squaresOf } from '../../src-main/retrieval/int8-cache.js';
import { coarseStage, nearestByDistance, newInt8Copies, rankInMemory, type Int8Copies } from '../../src-main/retrieval/vector-stage.js';
import { quantizeInt8 } from '../../src-main/index/quantize.js';
import { simhashProjections } from '../../src-main/index/simhash.js';
import { contentWords, idf, type TermStats } from '../../src-main/index/term-stats.js';
import { createOwnerOnlyFile } from '../../src-main/vault/paths.js';
import { openEncryptedDatabase, type Db } from '../../src-main/vault/sqlite.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import { rankOnVectorWorker } from '../../src-main/retrieval/vector-worker.js';
import { row, type VectorSet } from './exact.js';
import { benchHandle } from './internals.js';
import { SharedTermScorer } from './shared-term-scorer.js';
import { rng, type MarkovText } from './generator.js';
import { log, since } from './stats.js';

type Stmt = Database.Statement<unknown[]>;

/** One chunk of the product tenant, copied as tenant 0 of the shared index. */
export interface SourceChunk {
  id: number;
  document_id: number;
  ordinal: number;
  text: string;
  token_count: number;
  char_start: number;
  char_end: number;
  page: number | null;
  heading_path: string | null;
  sha256: string;
}

export interface SourceDocument {
  id: number;
  source_path: string;
  title: string;
  format: string;
  content_sha256: string;
  bytes: number;
  tags: string;
  chunk_count: number;
  ingested_at: string;
  updated_at: string;
}

export interface SharedBuildInput {
  file: string;
  key: Buffer;
  tenants: number;
  /** The product tenant's chunks (become tenant 0, ids renumbered), in the order of `vectors`. */
  chunks: readonly SourceChunk[];
  documents: readonly SourceDocument[];
  vectors: VectorSet;
  /** SimHash codes of `vectors` (see codes.ts). */
  codes: readonly Buffer[];
  gen: MarkovText;
  seedBase: number;
}

const ASCII = /^[\x00-\x7f]*$/;

const stemCache = new Map<string, string>();
function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = porterStem(word);
    stemCache.set(word, s);
  }
  return s;
}

/** Counts each chunk's distinct stems into `df` (what the product's addTermStats stores). */
function countStems(df: Map<string, number>, text: string): void {
  for (const s of new Set(contentWords(text).map(stem))) df.set(s, (df.get(s) ?? 0) + 1);
}

export class SharedIndex {
  readonly db: Db;
  readonly perTenant: number;
  readonly #bm25: Stmt;
  readonly #codeSets = new Map<number, CodeSet>();
  readonly #int8 = new Map<number, Int8Copies>();
  readonly #keptDf = new Map<number, Map<string, number>>();
  /** As the product's per-tenant stem cache (stemCacheOf). */
  readonly #stems = new Map<string, string>();
  /** A handle over this file, only for the vector worker's bookkeeping (rankOnVectorWorker). */
  #handle: TenantHandle | null = null;
  readonly #rerank: Stmt;
  readonly #float: Stmt;
  readonly #atLeast: Stmt;
  readonly #df: Stmt;
  readonly #text: Stmt;
  readonly #passages: Stmt;
  /** The tenant of each chunk id, for the term index's per-posting filter. */
  readonly #tenantOf: Uint8Array;

  private constructor(db: Db, perTenant: number) {
    this.db = db;
    this.perTenant = perTenant;
    const maxId = Number(db.prepare('SELECT max(id) FROM chunks').pluck().get() ?? 0);
    this.#tenantOf = new Uint8Array(maxId + 1).fill(255);
    for (const [id, tenant] of db.prepare('SELECT id, tenant_id FROM chunks').raw().iterate() as Iterable<[number, number]>) this.#tenantOf[id] = tenant;
    // FTS5 scores every matching row of every tenant (its BM25 statistics are the whole file's),
    // then the tenant filter reads each row's tenant_id back.
    this.#bm25 = db.prepare(
      'SELECT rowid AS chunkId, bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ? AND tenant_id = ? ORDER BY score, rowid LIMIT ?',
    );
    this.#float = db.prepare('SELECT embedding FROM chunk_vectors WHERE chunk_id = ? AND tenant_id = ?').pluck();
    // The product's int8 re-rank statement (search.ts int8RerankSql) with the tenant filter.
    const slots = Array.from({ length: RERANK_BATCH }, () => '?').join(',');
    this.#rerank = db.prepare(
      `SELECT chunk_id, vec_distance_cosine(vec_int8(vector), vec_int8(?)) FROM chunk_q8 WHERE chunk_id IN (${slots}) AND tenant_id = ?`,
    );
    this.#atLeast = db.prepare('SELECT count(*) AS c FROM (SELECT 1 FROM chunks WHERE tenant_id = ? LIMIT ?)');
    this.#df = db.prepare('SELECT df FROM term_stats WHERE tenant_id = ? AND term = ?').pluck();
    this.#text = db.prepare('SELECT text FROM chunks WHERE id = ? AND tenant_id = ?');
    this.#passages = db.prepare(
      `SELECT c.id, c.document_id, c.ordinal, c.text, c.char_start, c.char_end, c.page, c.heading_path, d.title, d.source_path
         FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE c.id IN (SELECT value FROM json_each(?)) AND c.tenant_id = ?`,
    );
  }

  static open(file: string, key: Buffer, perTenant: number): SharedIndex {
    return new SharedIndex(openEncryptedDatabase(file, key, { mustExist: true, label: 'shared index' }), perTenant);
  }

  static build(input: SharedBuildInput): SharedIndex {
    const { file, key, tenants, chunks, documents, vectors, codes, gen } = input;
    const n = chunks.length;
    const dim = vectors.dimension;
    createOwnerOnlyFile(file);
    const db = openEncryptedDatabase(file, key, { mustExist: false, label: 'shared index' });
    // Build-time only (the measured connection is reopened with the tenant settings).
    db.pragma('synchronous=OFF');
    db.pragma('cache_size=-262144');
    db.exec(`
      CREATE TABLE documents (
        id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, source_path TEXT NOT NULL, title TEXT NOT NULL,
        format TEXT NOT NULL, content_sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '[]',
        chunk_count INTEGER NOT NULL, ingested_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, source_path)
      ) STRICT;
      CREATE TABLE chunks (
        id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, text TEXT NOT NULL, token_count INTEGER NOT NULL, char_start INTEGER NOT NULL,
        char_end INTEGER NOT NULL, page INTEGER, heading_path TEXT, sha256 TEXT NOT NULL,
        UNIQUE (document_id, ordinal)
      ) STRICT;
      CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, tenant_id UNINDEXED, content = '', contentless_delete = 1, contentless_unindexed = 1,
        tokenize = "${FTS_TOKENIZE}"
      );
      CREATE TABLE term_stats (tenant_id INTEGER NOT NULL, term TEXT NOT NULL, df INTEGER NOT NULL, PRIMARY KEY (tenant_id, term)) STRICT, WITHOUT ROWID;
      CREATE TABLE chunk_vectors (chunk_id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, embedding BLOB NOT NULL) STRICT;
      CREATE TABLE chunk_codes (chunk_id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, code BLOB NOT NULL) STRICT;
      CREATE INDEX chunk_codes_tenant ON chunk_codes (tenant_id, chunk_id);
      CREATE TABLE chunk_q8 (chunk_id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, vector BLOB NOT NULL) STRICT;
      -- The product's term index tables (tenant migration 6), without a tenant column: shared postings.
      ${TERM_INDEX_TABLES}
    `);
    const insDoc = db.prepare(
      'INSERT INTO documents (id, tenant_id, source_path, title, format, content_sha256, bytes, tags, chunk_count, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insChunk = db.prepare(
      'INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, token_count, char_start, char_end, page, heading_path, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insFts = db.prepare('INSERT INTO chunks_fts (rowid, text, tenant_id) VALUES (?, ?, ?)');
    const insFloat = db.prepare('INSERT INTO chunk_vectors (chunk_id, tenant_id, embedding) VALUES (?, ?, ?)');
    const insCode = db.prepare('INSERT INTO chunk_codes (chunk_id, tenant_id, code) VALUES (?, ?, ?)');
    const insInt8 = db.prepare('INSERT INTO chunk_q8 (chunk_id, tenant_id, vector) VALUES (?, ?, ?)');
    const insStat = db.prepare('INSERT INTO term_stats (tenant_id, term, df) VALUES (?, ?, ?)');

    // Per-tenant document frequencies: tenant 0's from its chunks. The other tenants are never
    // queried, so their term_stats rows (which only have to exist, for the table's size) copy
    // tenant 0's statistics instead of stemming 900,000 more chunks.
    const df0 = new Map<string, number>();
    for (const c of chunks) countStems(df0, c.text);

    const docIdMap = new Map<number, number>();
    documents.forEach((d, i) => docIdMap.set(d.id, i + 1));
    const wordCounts = Int32Array.from(chunks.map((c) => c.text.split(/\s+/).length));
    const chunksPerDoc = Math.max(1, Math.round(n / Math.max(1, documents.length)));
    const docsPerTenant = Math.ceil(n / chunksPerDoc) + documents.length;
    const now = new Date().toISOString();
    const t0 = performance.now();
    const BATCH = 25_000;
    for (let t = 0; t < tenants; t++) {
      const r = rng(input.seedBase + t);
      const chunkBase = t * n;
      const docBase = t * docsPerTenant;
      // tenant t > 0: the product tenant's vectors permuted, plus a little noise, re-normalised.
      // Their codes are those of the source vectors: only tenant 0 is ever queried, the others
      // only have to be there, in the same amount, as in a real shared file.
      const perm = Int32Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        const tmp = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = tmp;
      }
      const vec = new Float32Array(dim);
      const vbuf = Buffer.from(vec.buffer);
      for (let at = 0; at < n; at += BATCH) {
        db.transaction(() => {
          for (let j = at; j < Math.min(n, at + BATCH); j++) {
            const id = chunkBase + j + 1;
            let text: string;
            let code: Buffer;
            if (t === 0) {
              const c = chunks[j]!;
              const docId = docBase + docIdMap.get(c.document_id)!;
              if (j === 0 || chunks[j - 1]!.document_id !== c.document_id) {
                const d = documents[docIdMap.get(c.document_id)! - 1]!;
                insDoc.run(docId, t, d.source_path, d.title, d.format, d.content_sha256, d.bytes, d.tags, d.chunk_count, d.ingested_at, d.updated_at);
              }
              text = c.text;
              insChunk.run(id, t, docId, c.ordinal, text, c.token_count, c.char_start, c.char_end, c.page, c.heading_path, c.sha256);
              vec.set(row(vectors, j));
              code = codes[j]!;
            } else {
              const docId = docBase + Math.floor(j / chunksPerDoc) + 1;
              const ordinal = j % chunksPerDoc;
              if (ordinal === 0) {
                insDoc.run(docId, t, `/data/tenant-${t}/doc-${docId}.txt`, gen.title(r), 'txt', '', 0, '[]', Math.min(chunksPerDoc, n - j), now, now);
              }
              text = gen.words(r, wordCounts[Math.floor(r() * n)]!);
              const sha = crypto.createHash('sha256').update(text).digest('hex');
              insChunk.run(id, t, docId, ordinal, text, Math.round(text.length / 4.2), 0, text.length, null, null, sha);
              const src = row(vectors, perm[j]!);
              let norm = 0;
              for (let d = 0; d < dim; d++) {
                const x = src[d]! + (r() - 0.5) * 0.01;
                vec[d] = x;
                norm += x * x;
              }
              const inv = 1 / Math.sqrt(norm || 1);
              for (let d = 0; d < dim; d++) vec[d]! *= inv;
              code = codes[perm[j]!]!;
            }
            // Generated text is ASCII: for it the tokenizer sees exactly the tokens ftsIndexText
            // would give (fold = lower case, runs split at the same non-token characters).
            insFts.run(id, t > 0 && ASCII.test(text) ? text : ftsIndexText(text), t);
            insFloat.run(id, t, vbuf);
            insCode.run(id, t, code);
            insInt8.run(id, t, quantizeInt8(vec));
          }
        })();
      }
      db.transaction(() => {
        insStat.run(t, '', n); // the chunk count, as the product keeps it under ''
        for (const [term, c] of df0) insStat.run(t, term, c);
      })();
      log(`shared index: tenant ${t + 1}/${tenants} written (${((t + 1) * n).toLocaleString('en')} chunks, ${since(t0).toFixed(0)} s)`);
    }
    db.exec('CREATE INDEX chunks_tenant ON chunks (tenant_id)');
    // The shared term index, built by the product's own merge over every tenant's chunks.
    const tTerms = performance.now();
    db.exec('INSERT INTO term_index_pending (chunk_id) SELECT id FROM chunks');
    mergePendingTerms(benchHandle('shared-index-build', 'shared index', db));
    log(`shared index: term index over ${(tenants * n).toLocaleString('en')} chunks built (${since(tTerms).toFixed(0)} s)`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return SharedIndex.open(file, key, n);
  }

  /** As the product's termStats: counts read once are kept (per tenant here; nothing writes during the timings). */
  #stats(tenantId: number, stems: Iterable<string>): TermStats {
    let df = this.#keptDf.get(tenantId);
    if (!df) this.#keptDf.set(tenantId, (df = new Map()));
    for (const s of ['', ...stems]) if (!df.has(s)) df.set(s, Number(this.#df.get(tenantId, s) ?? 0));
    const total = df.get('')!;
    return { total, df: (s) => (s === '' ? 0 : (df.get(s) ?? 0)) };
  }

  #atLeastN(tenantId: number, n: number): boolean {
    return n <= 0 || (this.#atLeast.get(tenantId, n) as { c: number }).c >= n;
  }

  /** hybridRank's fullTextSide: the shared term index filtered by tenant, or FTS5 filtered by tenant. */
  fullTextSide(tenantId: number, query: string, opts: SearchOptions): FullTextSide {
    const stems = indexedStems(query);
    if (stems) {
      const scorer = new SharedTermScorer(this.db, { tenantOf: this.#tenantOf, tenant: tenantId });
      scorer.add(stems);
      return termSide(scorer, stems, opts);
    }
    const first = this.bm25(tenantId, this.fullTextTerms(tenantId, query, opts), opts.candidates);
    return {
      first,
      totalChunks: this.perTenant,
      expansionMaxShare: this.#atLeastN(tenantId, opts.pruneMinChunks) ? opts.expansionMaxShare : 1,
      expanded: (words) => withExpansion(first, this.bm25(tenantId, words.map(quoteFtsTerm), opts.candidates), opts),
    };
  }

  /** hybridRank's fullTextTerms (FTS5 path), with this tenant's statistics. */
  fullTextTerms(tenantId: number, query: string, opts: SearchOptions): string[] {
    const words = queryWords(query);
    const stemmed = words.map((w) => ({ ...w, stem: w.word ? porterStem(w.text) : null }));
    const stats = this.#stats(
      tenantId,
      stemmed.flatMap((w) => (w.stem ? [w.stem] : [])),
    );
    if (stats.total < opts.pruneMinChunks) return words.map((w) => quoteFtsTerm(w.text));
    const share = (w: (typeof stemmed)[number]): number => (w.stem ? stats.df(w.stem) / stats.total : 0);
    const kept = stemmed.filter((w) => share(w) <= opts.commonTermRatio);
    const keep = kept.length >= Math.min(2, stemmed.length) ? kept : [...stemmed].sort((a, b) => share(a) - share(b)).slice(0, 2);
    return keep.map((w) => quoteFtsTerm(w.text));
  }

  bm25(tenantId: number, quotedTerms: readonly string[], k: number): RankedHit[] {
    if (quotedTerms.length === 0) return [];
    const rows = this.#bm25.all(quotedTerms.join(' OR '), tenantId, k) as { chunkId: number; score: number }[];
    return rows.map((r, i) => ({ chunkId: r.chunkId, rank: i + 1, score: -r.score }));
  }

  /** The product's two-stage vector search (in-memory SimHash candidates, int8 re-rank), filtered by tenant. */
  knn(tenantId: number, vector: Float32Array, k: number): RankedHit[] {
    if (!vector.some((x) => x !== 0)) return [];
    let set = this.#codeSets.get(tenantId);
    if (!set) {
      // As the product's readCodeRows (code-pack.ts), with the tenant filter.
      const row = this.db
        .prepare(
          `SELECT group_concat(chunk_id, ',') AS idText, CAST(group_concat(code, x'') AS BLOB) AS blob
             FROM (SELECT chunk_id, code FROM chunk_codes WHERE length(code) = 128 AND tenant_id = ? ORDER BY chunk_id)`,
        )
        .get(tenantId) as { idText: string | null; blob: Buffer | null };
      const { ids, codes } = parseCodeRows(row, 'shared index');
      set = CodeSet.from(ids, codes);
      this.#codeSets.set(tenantId, set);
    }
    // As the product once its copies are loaded (int8-cache.ts): this tenant's int8 vectors in
    // memory, read once with the tenant filter; the SQLite re-rank (tenant-filtered) before that.
    const copies = this.#int8.get(tenantId);
    return copies ? rankInMemory(set, copies, vector, k) : this.#int8Rerank(tenantId, quantizeInt8(vector), coarseStage(set, vector, k), k);
  }

  /** The product's int8Rerank (search.ts) over the tenant-filtered statement. */
  #int8Rerank(tenantId: number, query: Buffer, candidates: readonly number[], k: number): RankedHit[] {
    const scored: { chunkId: number; distance: number }[] = [];
    for (let i = 0; i < candidates.length; i += RERANK_BATCH) {
      const batch: (number | null)[] = candidates.slice(i, i + RERANK_BATCH);
      while (batch.length < RERANK_BATCH) batch.push(null);
      for (const [chunkId, distance] of this.#rerank.raw().all(query, ...batch, tenantId) as [number, number | null][]) {
        if (distance !== null) scored.push({ chunkId, distance });
      }
    }
    return nearestByDistance(scored, k);
  }

  #knnAside(tenantId: number, vector: Float32Array, k: number): Promise<RankedHit[]> | null {
    const set = this.#codeSets.get(tenantId);
    const copies = this.#int8.get(tenantId);
    if (!set || !copies || !vector.some((x) => x !== 0)) return null;
    this.#handle ??= benchHandle('shared-index', 'shared index', this.db);
    return rankOnVectorWorker(this.#handle, set, copies, vector, k);
  }

  /** Reads one tenant's int8 copies into memory (the product loads its own on the background reader). */
  loadInt8(tenantId: number, dimension: number): void {
    const rows = this.db.prepare('SELECT chunk_id, vector FROM chunk_q8 WHERE tenant_id = ? ORDER BY chunk_id').raw().all(tenantId) as [number, Buffer][];
    const copies = newInt8Copies(rows.length, dimension);
    rows.forEach(([id, v], i) => {
      copies.ids[i] = id;
      copies.vectors.set(new Int8Array(v.buffer, v.byteOffset, v.length), i * dimension);
    });
    copies.squares.set(squaresOf(copies.vectors, dimension));
    this.#int8.set(tenantId, copies);
  }

  /** The product's expansionWords, with this tenant's document frequencies. */
  expansionWords(tenantId: number, query: string, feedback: readonly string[], count: number, maxShare = 1): string[] {
    if (count <= 0 || feedback.length === 0) return [];
    const stemOf = (word: string): string => porterStemCached(word, this.#stems);
    const queryStems = new Set(contentWords(query).map(stemOf));
    const weight = new Map<string, number>();
    const surface = new Map<string, string>();
    feedback.forEach((text, rank) => {
      const words = contentWords(text);
      if (words.length === 0) return;
      const tf = new Map<string, number>();
      for (const word of words) {
        const s = stemOf(word);
        if (queryStems.has(s)) continue;
        tf.set(s, (tf.get(s) ?? 0) + 1);
        if (!surface.has(s)) surface.set(s, word);
      }
      for (const [s, c] of tf) weight.set(s, (weight.get(s) ?? 0) + c / words.length / (rank + 1));
    });
    const stats = this.#stats(tenantId, weight.keys());
    const scored: { stem: string; score: number }[] = [];
    for (const [s, w] of weight) {
      const v = idf(stats, s);
      if (v > 0 && stats.df(s) <= maxShare * stats.total) scored.push({ stem: s, score: w * v });
    }
    scored.sort((a, b) => b.score - a.score || (a.stem < b.stem ? -1 : 1));
    return scored.slice(0, count).map((x) => surface.get(x.stem)!);
  }

  texts(tenantId: number, ids: readonly number[]): string[] {
    return ids.flatMap((id) => {
      const r = this.#text.get(id, tenantId) as { text: string } | undefined;
      return r ? [r.text] : [];
    });
  }

  vectors(tenantId: number, ids: readonly number[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (const id of ids) {
      const b = this.#float.get(id, tenantId) as Buffer | undefined;
      if (b) out.push(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
    }
    return out;
  }

  /** hybridRank + searchKnowledge's passage fetch, step by step, filtered by tenant. */
  async search(tenantId: number, embedder: Embedder, query: string, k = 10): Promise<{ chunkId: number; text: string }[]> {
    const opts: SearchOptions = { ...SEARCH_DEFAULTS, k };
    let queryVector = await embedQuery(embedder, query);
    const text = this.fullTextSide(tenantId, query, opts);
    let bm25 = text.first;
    const feedback = opts.feedbackPassages > 0 && bm25.length > 0 && this.#atLeastN(tenantId, opts.feedbackMinChunks);
    const feedbackIds = feedback ? bm25.slice(0, opts.feedbackPassages).map((h) => h.chunkId) : [];
    if (feedbackIds.length > 0 && queryVector.some((x) => x !== 0)) queryVector = rocchio(queryVector, this.vectors(tenantId, feedbackIds), opts.rocchioBeta);
    // As the product's hybridRank: once the int8 copies are in memory the vector stage runs on
    // the vector worker while this thread runs the expansion.
    const aside = this.#knnAside(tenantId, queryVector, opts.candidates)?.catch(() => null) ?? null;
    if (feedbackIds.length > 0) {
      const expansion = this.expansionWords(tenantId, query, this.texts(tenantId, feedbackIds), opts.expansionWords, text.expansionMaxShare);
      if (expansion.length > 0) bm25 = text.expanded(expansion);
    }
    const vector = (aside && (await aside)) ?? this.knn(tenantId, queryVector, opts.candidates);
    const top = fuseRrf(bm25, vector, opts).slice(0, k);
    const rows = this.#passages.all(JSON.stringify(top.map((h) => h.chunkId)), tenantId) as { id: number; text: string; heading_path: string | null }[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return top.flatMap((h) => {
      const r = byId.get(h.chunkId);
      if (!r) return [];
      if (r.heading_path) JSON.parse(r.heading_path);
      return [{ chunkId: r.id, text: r.text }];
    });
  }

  close(): void {
    this.db.close();
  }
}
