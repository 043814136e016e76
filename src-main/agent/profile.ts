import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { getDocument } from '../ingest/documents.js';
import type { TenantHandle } from '../vault/handle.js';

/** What a document is to the agent: the tenant's standing instructions, its brand voice, or plain knowledge. */
export const DocumentRole = z.enum(['instructions', 'voice', 'none']);
export type DocumentRole = z.infer<typeof DocumentRole>;

export interface ProfileDocument {
  documentId: number;
  title: string;
  role: 'instructions' | 'voice';
  text: string;
}

export function setDocumentRole(tenant: TenantHandle, documentId: number, roleInput: unknown): { documentId: number; title: string; role: DocumentRole } {
  const role = DocumentRole.safeParse(roleInput);
  if (!role.success) throw new BulkheadError('INPUT_INVALID', 'a document role is one of: instructions, voice, none');
  const doc = getDocument(tenant, documentId);
  if (role.data === 'none') tenant.db.prepare('DELETE FROM document_roles WHERE document_id = ?').run(documentId);
  else {
    tenant.db
      .prepare('INSERT INTO document_roles (document_id, role) VALUES (?, ?) ON CONFLICT (document_id) DO UPDATE SET role = excluded.role')
      .run(documentId, role.data);
  }
  return { documentId, title: doc.title, role: role.data };
}

/** The tenant's profile documents with their text (chunks in order; overlaps are kept, they are short). */
export function readProfile(tenant: TenantHandle): ProfileDocument[] {
  const rows = tenant.db
    .prepare(
      `SELECT r.document_id AS documentId, d.title, r.role, group_concat(c.text, char(10) ORDER BY c.ordinal) AS text
         FROM document_roles r
         JOIN documents d ON d.id = r.document_id
         JOIN chunks c ON c.document_id = r.document_id
        GROUP BY r.document_id
        ORDER BY r.role, r.document_id`,
    )
    .all() as ProfileDocument[];
  return rows;
}
