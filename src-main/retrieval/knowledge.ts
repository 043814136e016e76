import crypto from 'node:crypto';
import { z } from 'zod';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { appendAudit } from '../vault/audit-chain.js';
import type { Embedder } from '../embed/embedder.js';
import { EmbedderError } from '../embed/embedder.js';
import { createEmbedder } from '../embed/index.js';
import { readEmbedderConfig } from '../embed/settings.js';
import type { TenantHandle } from '../vault/handle.js';
import { hybridRank, SEARCH_DEFAULTS } from './search.js';
import { fusionWeightFor } from './calibration.js';
import { tuneWhenDue } from './term-space-job.js';
import { MAX_QUERY_CHARS } from './by-example.js';
import { readReranker } from './reranker-setting.js';
import { rerank } from '../models/reranker.js';
import { modelRuntime } from '../models/shared.js';

/** How many fused candidates a reranker re-orders (at least k). */
export const RERANK_POOL = 20;

/** A passage of the open tenant, with where it came from: enough to cite it. */
/** A chunk of the open tenant with its provenance: its document, page, section and offsets. */
export interface StoredPassage {
  chunkId: number;
  documentId: number;
  title: string;
  sourcePath: string;
  ordinal: number;
  page: number | null;
  headingPath: string[];
  charStart: number;
  charEnd: number;
  text: string;
}

export interface Passage extends StoredPassage {
  /** The fused score (reciprocal rank fusion): only comparable within one result list. */
  score: number;
  bm25Rank: number | null;
  vectorRank: number | null;
}

export interface SearchResult {
  query: string;
  /** 'full-text' when the embedder could not be reached or the tenant has no vectors yet. */
  mode: 'hybrid' | 'full-text';
  note?: string;
  /** A long query's most telling terms, which the full-text side searched instead (by-example.ts). */
  searchedAs?: string;
  /** The library reranking model that re-ordered the fused candidates, when the tenant chose one. */
  reranker?: string;
  passages: Passage[];
}

export const SearchInput = z
  .object({
    query: z.string().trim().min(1, 'a search needs some text').max(MAX_QUERY_CHARS, 'a search can be at most 20,000 characters'),
    k: z.number().int().min(1).max(100).default(10),
    excludeDocumentIds: z
      .array(z.number().int().positive('a document id is a positive whole number'))
      .max(100, 'at most 100 documents can be left out of a search')
      .default([]),
  })
  .strict();

/** The chunk ids of these documents of the open tenant (ids that are not documents add nothing). */
function excludedChunkIds(tenant: TenantHandle, documentIds: readonly number[]): Set<number> {
  if (documentIds.length === 0) return new Set();
  return new Set(
    tenant.db.prepare('SELECT id FROM chunks WHERE document_id IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(documentIds)) as number[],
  );
}

interface ChunkRow {
  id: number;
  document_id: number;
  ordinal: number;
  text: string;
  char_start: number;
  char_end: number;
  page: number | null;
  heading_path: string | null;
  title: string;
  source_path: string;
}

/** The chunks of the open tenant with these ids, with their documents; ids that are gone are absent. */
export function storedPassages(tenant: TenantHandle, chunkIds: readonly number[]): Map<number, StoredPassage> {
  const rows = tenant.db
    .prepare(
      `SELECT c.id, c.document_id, c.ordinal, c.text, c.char_start, c.char_end, c.page, c.heading_path, d.title, d.source_path
         FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE c.id IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(chunkIds)) as ChunkRow[];
  return new Map(
    rows.map((r) => [
      r.id,
      {
        chunkId: r.id,
        documentId: r.document_id,
        title: r.title,
        sourcePath: r.source_path,
        ordinal: r.ordinal,
        page: r.page,
        headingPath: r.heading_path ? (JSON.parse(r.heading_path) as string[]) : [],
        charStart: r.char_start,
        charEnd: r.char_end,
        text: r.text,
      },
    ]),
  );
}

/**
 * Hybrid search over the open tenant's own index. Everything ranked comes from this one file:
 * the filtering happens before ranking because nothing of any other tenant is in the index.
 */
export async function searchKnowledge(
  tenant: TenantHandle,
  query: string,
  opts: {
    k?: number;
    signal?: AbortSignal;
    embedder?: Embedder | null;
    excludeDocumentIds?: readonly number[];
    reranker?: string | null;
    /** false: never start the offline embedder's tuning from here (a one-shot CLI run, which would wait for it). */
    tune?: boolean;
  } = {},
): Promise<SearchResult> {
  const input = SearchInput.safeParse({ query, k: opts.k ?? 10, ...(opts.excludeDocumentIds ? { excludeDocumentIds: opts.excludeDocumentIds } : {}) });
  if (!input.success) throw new BulkheadError('INPUT_INVALID', input.error.issues[0]?.message ?? 'invalid search');
  const { query: q, k, excludeDocumentIds } = input.data;
  // The offline embedder learns this tenant's vocabulary once it has enough passages (term-space-job.ts).
  if (opts.embedder === undefined && opts.tune !== false) tuneWhenDue(tenant);
  let embedder = opts.embedder === undefined ? createEmbedder(tenant, readEmbedderConfig(tenant)) : opts.embedder;
  let note: string | undefined;
  let ranking;
  try {
    // The tenant's own calibrated vector weight (calibration.ts), SEARCH_DEFAULTS' until it has one.
    const vectorWeight = fusionWeightFor(tenant, embedder);
    ranking = await hybridRank(tenant, embedder, q, { ...SEARCH_DEFAULTS, k, vectorWeight }, opts.signal);
  } catch (err) {
    // A remote embedder that is down, or that this tenant's egress refuses, must not take search down with it.
    if (!(err instanceof EmbedderError || isBulkheadError(err, 'MODEL_NOT_ALLOWED')) || opts.signal?.aborted) throw err;
    note = `the embedder is unavailable (${err.message}); showing full-text results`;
    embedder = null;
    ranking = await hybridRank(tenant, null, q, { ...SEARCH_DEFAULTS, k }, opts.signal);
  }
  // Left-out documents go before the cut, so they do not take places of the k (or of the reranker's pool).
  const excluded = excludedChunkIds(tenant, excludeDocumentIds);
  const candidates = excluded.size ? ranking.fused.filter((h) => !excluded.has(h.chunkId)) : ranking.fused;
  const reranker = opts.reranker === undefined ? readReranker(tenant) : opts.reranker;
  const top = candidates.slice(0, reranker ? Math.max(k, RERANK_POOL) : k);
  const stored = storedPassages(
    tenant,
    top.map((h) => h.chunkId),
  );
  let passages: Passage[] = top.flatMap((hit) => {
    const p = stored.get(hit.chunkId);
    return p ? [{ ...p, score: hit.fusedScore, bm25Rank: hit.bm25?.rank ?? null, vectorRank: hit.vector?.rank ?? null }] : [];
  });
  let reranked: string | undefined;
  let rerankerNote: string | undefined;
  if (reranker && passages.length > 1) {
    try {
      // On a ranking context of this tenant (disposed with it); the fused score stays the one shown.
      passages = (await rerank(modelRuntime(), tenant, reranker, q, passages, opts.signal)).items;
      reranked = reranker;
    } catch (err) {
      if (opts.signal?.aborted || !isBulkheadError(err) || err.code === 'TENANT_CLOSED') throw err;
      rerankerNote = `the reranker is unavailable (${err.message}); showing the fused order`;
    }
  }
  passages = passages.slice(0, k);
  const hybrid = embedder !== null && ranking.vector.length > 0;
  if (!hybrid && !note) note = embedder === null ? 'no embedder configured' : 'this tenant has no vectors yet';
  // The query's hash, never its text: the audit trail must not become a copy of what was asked.
  const queryHash = crypto.createHash('sha256').update(q, 'utf8').digest('hex');
  appendAudit(tenant, 'search', { queryHash, k, mode: hybrid ? 'hybrid' : 'full-text', results: passages.length, ...(reranked ? { reranked: true } : {}) });
  // A reranker that could not run says so; otherwise a full-text search says why.
  const shownNote = rerankerNote ?? (hybrid ? undefined : note);
  const searchedAs = ranking.searchedText !== q ? { searchedAs: ranking.searchedText } : {};
  return {
    query: q,
    mode: hybrid ? 'hybrid' : 'full-text',
    ...(shownNote ? { note: shownNote } : {}),
    ...searchedAs,
    ...(reranked ? { reranker: reranked } : {}),
    passages,
  };
}
