import { BulkheadError } from '../../src-shared/errors.js';
import { appendAudit } from '../vault/audit-chain.js';
import { optimizeFts, prepareFtsInsert } from '../index/fts.js';
import { addTermStats, removeTermStats } from '../index/term-stats.js';
import { mergePendingTerms, removeChunkTerms } from '../index/term-index.js';
import { packCodes } from '../index/code-pack.js';
import { activeVectorIndex, deleteVectors, insertVectors, type VectorIndex } from '../index/vectors.js';
import type { TenantHandle } from '../vault/handle.js';

export interface StoredDocument {
  id: number;
  sourcePath: string;
  title: string;
  format: string;
  sha256: string;
  bytes: number;
  tags: string[];
  chunkCount: number;
  ingestedAt: string;
  updatedAt: string;
}

export interface NewDocument {
  sourcePath: string;
  title: string;
  format: string;
  sha256: string;
  bytes: number;
  tags: string[];
}

export interface NewChunk {
  ordinal: number;
  text: string;
  tokenCount: number;
  charStart: number;
  charEnd: number;
  page?: number | undefined;
  headingPath?: string[] | undefined;
  sha256: string;
}

interface DocumentRow {
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

function toDocument(r: DocumentRow): StoredDocument {
  return {
    id: r.id,
    sourcePath: r.source_path,
    title: r.title,
    format: r.format,
    sha256: r.content_sha256,
    bytes: r.bytes,
    tags: JSON.parse(r.tags) as string[],
    chunkCount: r.chunk_count,
    ingestedAt: r.ingested_at,
    updatedAt: r.updated_at,
  };
}

export function findDocumentByPath(tenant: TenantHandle, sourcePath: string): StoredDocument | undefined {
  const row = tenant.db.prepare('SELECT * FROM documents WHERE source_path = ?').get(sourcePath) as DocumentRow | undefined;
  return row && toDocument(row);
}

export function getDocument(tenant: TenantHandle, id: number): StoredDocument {
  const row = tenant.db.prepare('SELECT * FROM documents WHERE id = ?').get(id) as DocumentRow | undefined;
  if (!row) throw new BulkheadError('DOCUMENT_NOT_FOUND', `no document ${id} in this tenant`);
  return toDocument(row);
}

export interface DocumentQuery {
  limit?: number;
  offset?: number;
  /** Matches title or path, case-insensitively. */
  filter?: string;
}

export function listDocuments(tenant: TenantHandle, q: DocumentQuery = {}): StoredDocument[] {
  const limit = Math.max(1, Math.min(q.limit ?? 100, 10_000));
  const offset = Math.max(0, q.offset ?? 0);
  const rows = q.filter
    ? tenant.db
        .prepare(
          'SELECT * FROM documents WHERE instr(lower(title), lower(?)) > 0 OR instr(lower(source_path), lower(?)) > 0 ORDER BY title COLLATE NOCASE, id LIMIT ? OFFSET ?',
        )
        .all(q.filter, q.filter, limit, offset)
    : tenant.db.prepare('SELECT * FROM documents ORDER BY title COLLATE NOCASE, id LIMIT ? OFFSET ?').all(limit, offset);
  return (rows as DocumentRow[]).map(toDocument);
}

export function countDocuments(tenant: TenantHandle): { documents: number; chunks: number } {
  const row = tenant.db.prepare('SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM chunks) AS chunks').get() as {
    documents: number;
    chunks: number;
  };
  return row;
}

function removeDocumentRows(tenant: TenantHandle, id: number, index: VectorIndex | null): void {
  const chunks = tenant.db.prepare('SELECT id, text FROM chunks WHERE document_id = ?').all(id) as { id: number; text: string }[];
  if (index)
    deleteVectors(
      tenant,
      index,
      chunks.map((c) => c.id),
    );
  removeTermStats(
    tenant,
    chunks.map((c) => c.text),
  );
  removeChunkTerms(tenant, chunks);
  // Chunks go by ON DELETE CASCADE, their full-text rows by the chunks_fts_delete trigger;
  // vec0 cannot be reached from a trigger under trusted_schema=OFF, hence the explicit delete.
  tenant.db.prepare('DELETE FROM documents WHERE id = ?').run(id);
}

/**
 * Removes a document, its chunks, vectors and full-text rows in one transaction, then merges
 * the full-text index so the deleted words leave its pages too (they linger in old segments),
 * and rebuilds the vector code pack so the next open still reads it fast.
 */
export function deleteDocument(tenant: TenantHandle, id: number): StoredDocument {
  const doc = tenant.db
    .transaction(() => {
      const found = getDocument(tenant, id);
      removeDocumentRows(tenant, id, activeVectorIndex(tenant));
      return found;
    })
    .immediate();
  optimizeFts(tenant);
  mergePendingTerms(tenant);
  const index = activeVectorIndex(tenant);
  if (index) packCodes(tenant, index);
  appendAudit(tenant, 'document.delete', { documentId: doc.id, sha256: doc.sha256, chunks: doc.chunkCount });
  return doc;
}

export function setDocumentTags(tenant: TenantHandle, id: number, tags: string[]): StoredDocument {
  getDocument(tenant, id);
  tenant.db.prepare('UPDATE documents SET tags = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(tags), new Date().toISOString(), id);
  return getDocument(tenant, id);
}

/**
 * Writes a whole document (replacing any earlier version at the same path) in one
 * transaction: a crash or a cancel leaves the old version or the new one, never half of either.
 */
export function storeDocument(
  tenant: TenantHandle,
  doc: NewDocument,
  chunks: readonly NewChunk[],
  vectors: readonly Float32Array[],
  index: VectorIndex,
): { id: number; replaced: boolean } {
  return tenant.db
    .transaction(() => {
      const now = new Date().toISOString();
      const previous = findDocumentByPath(tenant, doc.sourcePath);
      if (previous) removeDocumentRows(tenant, previous.id, index);
      const { lastInsertRowid } = tenant.db
        .prepare(
          'INSERT INTO documents (source_path, title, format, content_sha256, bytes, tags, chunk_count, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(doc.sourcePath, doc.title, doc.format, doc.sha256, doc.bytes, JSON.stringify(doc.tags), chunks.length, previous?.ingestedAt ?? now, now);
      const documentId = Number(lastInsertRowid);
      const insert = tenant.db.prepare(
        'INSERT INTO chunks (document_id, ordinal, text, token_count, char_start, char_end, page, heading_path, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const indexText = prepareFtsInsert(tenant);
      const ids = chunks.map((c) =>
        Number(
          insert.run(
            documentId,
            c.ordinal,
            c.text,
            c.tokenCount,
            c.charStart,
            c.charEnd,
            c.page ?? null,
            c.headingPath ? JSON.stringify(c.headingPath) : null,
            c.sha256,
          ).lastInsertRowid,
        ),
      );
      ids.forEach((chunkId, i) => indexText(chunkId, chunks[i]!.text));
      addTermStats(
        tenant,
        chunks.map((c) => c.text),
      );
      insertVectors(tenant, index, ids, vectors);
      return { id: documentId, replaced: previous !== undefined };
    })
    .immediate();
}
