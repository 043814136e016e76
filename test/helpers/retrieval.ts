import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Embedder } from '../../src-main/embed/embedder.js';
import { storeDocument, type NewChunk } from '../../src-main/ingest/documents.js';
import { generationTables, vectorIndexFor, type VectorIndex } from '../../src-main/index/vectors.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import type { Vault } from '../../src-main/vault/vault.js';
import { freshVault, tempDir } from './vault.js';

// Tenants with stored chunks, for retrieval tests: a real encrypted vault tenant, its schema
// from the tenant migrations, and chunks written the way ingestion writes them (storeDocument).

/** One chunk to store: chunks with the same `documentKey` become one document. */
export interface ChunkSpec {
  readonly documentKey: string;
  readonly ordinal: number;
  readonly text: string;
}

export interface StoredChunks {
  /** Chunk ids, in input order. */
  readonly chunkIds: number[];
  /** The document id of each input chunk, in input order. */
  readonly documentIds: number[];
  /** Document id by document key. */
  readonly documents: Map<string, number>;
  readonly index: VectorIndex;
}

export interface TenantWithChunks extends StoredChunks {
  readonly tenant: TenantHandle;
}

const open: { vault: Vault; dir: string }[] = [];

/** A tenant of a fresh vault (in a temp dir), opened; `closeTenants` locks and removes it. */
export async function openFreshTenant(name = 'Retrieval'): Promise<TenantHandle> {
  const dir = tempDir('bulkhead-retrieval-');
  const vault = await freshVault(dir);
  open.push({ vault, dir });
  const { id } = vault.createTenant(name);
  return vault.openSession().open(id);
}

/** Locks every vault opened by this helper and deletes its files (call from afterEach). */
export function closeTenants(): void {
  for (const { vault, dir } of open.splice(0)) {
    vault.lock();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');

/** Separator between chunks of one document, for the char offsets. */
const SEPARATOR = '\n\n';

function toSpecs(texts: readonly string[] | readonly ChunkSpec[]): ChunkSpec[] {
  return texts.map((t, i) => (typeof t === 'string' ? { documentKey: `doc-${i + 1}`, ordinal: 0, text: t } : t));
}

/**
 * Stores chunks through `storeDocument`, one call per document (in order of first appearance),
 * with vectors from `embedder.embed` in the embedder's vector index (created on first use).
 * A plain string is a one-chunk document of its own, keyed `doc-<1-based position>`. A chunk's
 * offsets are those in its document's text: the chunks in ordinal order joined by a blank line.
 * A document key stored again (same source path) replaces the earlier document, as re-ingest does.
 */
export async function storeChunks(tenant: TenantHandle, embedder: Embedder, texts: readonly string[] | readonly ChunkSpec[]): Promise<StoredChunks> {
  const specs = toSpecs(texts);
  const index = vectorIndexFor(tenant, embedder.id, embedder.dimension);
  const byDocument = new Map<string, number[]>();
  specs.forEach((s, i) => byDocument.set(s.documentKey, [...(byDocument.get(s.documentKey) ?? []), i]));
  const chunkIds: number[] = new Array<number>(specs.length);
  const documentIds: number[] = new Array<number>(specs.length);
  const documents = new Map<string, number>();
  for (const [key, positions] of byDocument) {
    const ordered = [...positions].sort((a, b) => specs[a]!.ordinal - specs[b]!.ordinal);
    let offset = 0;
    const chunks: NewChunk[] = ordered.map((p) => {
      const { ordinal, text } = specs[p]!;
      const chunk: NewChunk = {
        ordinal,
        text,
        tokenCount: text.split(/\s+/u).filter(Boolean).length,
        charStart: offset,
        charEnd: offset + text.length,
        sha256: sha256(text),
      };
      offset = chunk.charEnd + SEPARATOR.length;
      return chunk;
    });
    const full = chunks.map((c) => c.text).join(SEPARATOR);
    const vectors = await embedder.embed(chunks.map((c) => c.text));
    const { id } = storeDocument(
      tenant,
      { sourcePath: `/corpus/${key}.txt`, title: key, format: 'txt', sha256: sha256(full), bytes: Buffer.byteLength(full), tags: [] },
      chunks,
      vectors,
      index,
    );
    documents.set(key, id);
    // storeDocument does not return chunk ids: read them back by (document, ordinal), which is unique.
    const idByOrdinal = new Map(
      (tenant.db.prepare('SELECT id, ordinal FROM chunks WHERE document_id = ?').all(id) as { id: number; ordinal: number }[]).map((r) => [r.ordinal, r.id]),
    );
    for (const p of positions) {
      chunkIds[p] = idByOrdinal.get(specs[p]!.ordinal)!;
      documentIds[p] = id;
    }
  }
  return { chunkIds, documentIds, documents, index };
}

/** A fresh vault tenant holding `texts` (see `storeChunks`). */
export async function tenantWithChunks(embedder: Embedder, texts: readonly string[] | readonly ChunkSpec[]): Promise<TenantWithChunks> {
  const tenant = await openFreshTenant();
  return { tenant, ...(await storeChunks(tenant, embedder, texts)) };
}

/**
 * Takes the term index of tenant migration 6 out of a tenant, and what later migrations added (the
 * term spaces of 7), as a file from before it has none (the caller sets user_version).
 */
export function dropTermIndex(tenant: TenantHandle): void {
  tenant.db.exec(`DROP TRIGGER chunks_terms_pending; DROP TRIGGER chunks_terms_unpend;
    DROP TABLE term_postings; DROP TABLE term_index_pending; DROP TABLE term_index_totals; DROP TABLE term_spaces;`);
}

/** Query strings that would be FTS5 or SQL syntax if they reached a MATCH unquoted, and other odd input. */
export const HOSTILE_QUERIES: readonly string[] = [
  '"',
  '""',
  '"""',
  '*',
  '**',
  'NEAR(',
  'NEAR(a b',
  'NEAR("a" "b", -1)',
  '(',
  ')',
  '((((',
  'a AND',
  'AND',
  'OR',
  'NOT',
  'a NOT',
  'NOT a',
  '-',
  '-a',
  '+',
  '^',
  '^a',
  'a*',
  '*a',
  ':',
  'text:',
  'text:alpha',
  '{text}: alpha',
  '{',
  '}',
  '[',
  ']',
  "'",
  "''",
  '\\',
  '\\"',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '🙂',
  '🙂🙂 rocket',
  '?',
  ';',
  '; DROP TABLE chunks; --',
  "' OR 1=1 --",
  'rank MATCH',
  'bm25(',
  'chunks_fts',
  '"alpha" OR "',
  'a"b',
  'é"',
  '東京"',
  '"東 京',
  'NEAR/3',
  'a + b',
  'alpha  ',
  ' ',
  '',
  '\t\n',
  'x'.repeat(10_000),
  'word '.repeat(2000),
  'x'.repeat(20_001),
  '東京タワー'.repeat(4000),
  'ab'.repeat(500) + '"',
];

/** `SELECT count(*)` of a query (the SQL is the test's own, never user input). */
export function countRows(tenant: TenantHandle, sql: string, ...params: unknown[]): number {
  return Number(
    tenant.db
      .prepare(`SELECT count(*) FROM (${sql})`)
      .pluck()
      .get(...params),
  );
}

/** Rows of the tenant's vector generation; its three tables (floats, codes, int8) must agree. */
export function vectorRows(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): number {
  const [floats, ...others] = generationTables(index).map((t) => countRows(tenant, `SELECT chunk_id FROM ${t}`));
  for (const n of others) if (n !== floats) throw new Error(`the vector tables of generation ${index.generation} disagree: ${floats} floats, ${n} other rows`);
  return floats!;
}

/** The cosine of two vectors (0 when either is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
