// The library narrowed by text, tags, kinds of document and date added; tags edited; a document
// read whole from its passages. All inside the open tenant's file.
import { BulkheadError } from '../../src-shared/errors.js';
import { appendAudit } from '../vault/audit-chain.js';
import type { TenantHandle } from '../vault/handle.js';
import { getDocument, listDocuments, setDocumentTags, type StoredDocument } from './documents.js';

export interface DocumentFilter {
  /** Matches title or path, case-insensitively. */
  text?: string;
  /** Every one of these tags (compared case-insensitively). */
  tags?: readonly string[];
  /** Any of these formats ('md', 'pdf', …). */
  formats?: readonly string[];
  /** Date added, inclusive, as YYYY-MM-DD (UTC). */
  from?: string | null;
  to?: string | null;
}

/** The WHERE clause and its parameters for a filter over `documents d`. */
export function documentWhere(f: DocumentFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.text) {
    parts.push('(instr(lower(d.title), lower(?)) > 0 OR instr(lower(d.source_path), lower(?)) > 0)');
    params.push(f.text, f.text);
  }
  for (const tag of f.tags ?? []) {
    parts.push('EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE lower(t.value) = lower(?))');
    params.push(tag);
  }
  if (f.formats && f.formats.length > 0) {
    parts.push(`d.format IN (${f.formats.map(() => '?').join(', ')})`);
    params.push(...f.formats.map((x) => x.toLowerCase()));
  }
  if (f.from) {
    parts.push('substr(d.ingested_at, 1, 10) >= ?');
    params.push(f.from);
  }
  if (f.to) {
    parts.push('substr(d.ingested_at, 1, 10) <= ?');
    params.push(f.to);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export function isEmptyFilter(f: DocumentFilter): boolean {
  return !f.text && !f.tags?.length && !f.formats?.length && !f.from && !f.to;
}

/** One page of the library under a filter, with the filtered total. */
export function filterDocuments(tenant: TenantHandle, f: DocumentFilter, offset: number, limit: number): { total: number; items: StoredDocument[] } {
  if (!f.tags?.length && !f.formats?.length && !f.from && !f.to) {
    // The plain listing keeps its own (indexed) path.
    const items = listDocuments(tenant, { offset, limit, ...(f.text ? { filter: f.text } : {}) });
    const { sql, params } = documentWhere(f);
    const total = tenant.db
      .prepare(`SELECT count(*) FROM documents d ${sql}`)
      .pluck()
      .get(...params) as number;
    return { total, items };
  }
  const { sql, params } = documentWhere(f);
  const ids = tenant.db
    .prepare(`SELECT d.id FROM documents d ${sql} ORDER BY d.title COLLATE NOCASE, d.id LIMIT ? OFFSET ?`)
    .pluck()
    .all(...params, limit, offset) as number[];
  const total = tenant.db
    .prepare(`SELECT count(*) FROM documents d ${sql}`)
    .pluck()
    .get(...params) as number;
  return { total, items: ids.map((id) => getDocument(tenant, id)) };
}

/** The ids of the documents a filter lets through (for narrowing search results). */
export function allowedDocumentIds(tenant: TenantHandle, f: DocumentFilter): Set<number> {
  const { sql, params } = documentWhere(f);
  return new Set(
    tenant.db
      .prepare(`SELECT d.id FROM documents d ${sql}`)
      .pluck()
      .all(...params) as number[],
  );
}

/** Tags and formats in use, with how many documents carry each. */
export function documentFacets(tenant: TenantHandle): { tags: { name: string; count: number }[]; formats: { name: string; count: number }[] } {
  const tags = tenant.db
    .prepare('SELECT t.value AS name, count(*) AS count FROM documents d, json_each(d.tags) t GROUP BY lower(t.value) ORDER BY lower(t.value) LIMIT 500')
    .all() as { name: string; count: number }[];
  const formats = tenant.db.prepare('SELECT format AS name, count(*) AS count FROM documents GROUP BY format ORDER BY format').all() as {
    name: string;
    count: number;
  }[];
  return { tags, formats };
}

/** Trims, NFC-normalises and de-duplicates tags (case-insensitively, first spelling kept). */
export function normaliseTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.normalize('NFC').trim();
    if (!tag) continue;
    if (tag.length > 64 || /[\p{Cc}\p{Cf}]/u.test(tag))
      throw new BulkheadError('INPUT_INVALID', 'a tag is at most 64 characters, without control or formatting characters');
    if (seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    out.push(tag);
  }
  if (out.length > 32) throw new BulkheadError('INPUT_INVALID', 'a document can carry at most 32 tags');
  return out;
}

export function retagDocument(tenant: TenantHandle, id: number, tags: readonly string[]): StoredDocument {
  const doc = setDocumentTags(tenant, id, normaliseTags(tags));
  appendAudit(tenant, 'document.tags', { documentId: id, tags: doc.tags.length });
  return doc;
}

/** At most this much text of one document is shown at once. */
export const DOCUMENT_VIEW_CHARS = 2_000_000;

export interface DocumentSegment {
  chunkId: number;
  text: string;
  page: number | null;
  headingPath: string[];
}

/**
 * The document's text rebuilt from its passages in order: each passage contributes only what
 * the one before did not cover (they overlap by design), so the whole reads once.
 */
export function documentSegments(tenant: TenantHandle, id: number): { document: StoredDocument; segments: DocumentSegment[]; truncated: boolean } {
  const document = getDocument(tenant, id);
  const rows = tenant.db.prepare('SELECT id, text, char_start, char_end, page, heading_path FROM chunks WHERE document_id = ? ORDER BY ordinal').all(id) as {
    id: number;
    text: string;
    char_start: number;
    char_end: number;
    page: number | null;
    heading_path: string | null;
  }[];
  const segments: DocumentSegment[] = [];
  let covered = -1;
  let size = 0;
  let truncated = false;
  for (const r of rows) {
    if (size >= DOCUMENT_VIEW_CHARS) {
      truncated = true;
      break;
    }
    const skip = covered > r.char_start ? Math.min(r.text.length, covered - r.char_start) : 0;
    const gap = covered >= 0 && r.char_start > covered ? '\n\n' : '';
    const text = gap + r.text.slice(skip);
    covered = Math.max(covered, r.char_end);
    size += text.length;
    segments.push({ chunkId: r.id, text, page: r.page, headingPath: r.heading_path ? (JSON.parse(r.heading_path) as string[]) : [] });
  }
  return { document, segments, truncated };
}
