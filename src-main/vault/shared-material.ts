// Documents the user marked as the agency's own shared material (a template, a public
// standard): present in several clients legitimately, so the cross-tenant leak control skips
// them. A mark names the document and its content hash (it lapses if the content changes), is
// kept in the tenant's own settings and is recorded in its audit chain.
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { appendAudit } from './audit-chain.js';
import type { TenantHandle } from './handle.js';
import { writeTenantMeta } from './tenant-meta.js';
import { readTenantSetting, registerTenantSetting } from './tenant-settings.js';

const KEY = 'documents.shared';
const SharedMarks = z.array(z.object({ documentId: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict()).max(100_000);
registerTenantSetting(KEY, SharedMarks);

/** Ids of the documents whose shared mark still matches their content. */
export function sharedDocumentIds(tenant: TenantHandle): Set<number> {
  const marks = readTenantSetting(tenant, KEY, SharedMarks, []);
  if (marks.length === 0) return new Set();
  const sha = tenant.db.prepare('SELECT content_sha256 FROM documents WHERE id = ?').pluck();
  return new Set(marks.filter((m) => sha.get(m.documentId) === m.sha256).map((m) => m.documentId));
}

/** Marks (or unmarks) a document of the open tenant as shared material; audited. */
export function setDocumentShared(tenant: TenantHandle, documentId: number, shared: boolean): { documentId: number; shared: boolean } {
  const sha = tenant.db.prepare('SELECT content_sha256 FROM documents WHERE id = ?').pluck().get(documentId) as string | undefined;
  if (sha === undefined) throw new BulkheadError('DOCUMENT_NOT_FOUND', `no document ${documentId} in this tenant`);
  const marks = readTenantSetting(tenant, KEY, SharedMarks, []).filter((m) => m.documentId !== documentId);
  if (shared) marks.push({ documentId, sha256: sha });
  writeTenantMeta(tenant, KEY, JSON.stringify(marks));
  appendAudit(tenant, 'document.shared', { documentId, shared });
  return { documentId, shared };
}
