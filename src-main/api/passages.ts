import type { Passage } from '../../src-shared/contract.js';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';

interface Row {
  id: number;
  document_id: number;
  text: string;
  char_start: number;
  char_end: number;
  page: number | null;
  heading_path: string | null;
  title: string;
  source_path: string;
}

/** One passage of the open tenant, with its provenance: what a citation opens. */
export function readPassage(tenant: TenantHandle, chunkId: number): Passage {
  const r = tenant.db
    .prepare(
      `SELECT c.id, c.document_id, c.text, c.char_start, c.char_end, c.page, c.heading_path, d.title, d.source_path
         FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?`,
    )
    .get(chunkId) as Row | undefined;
  if (!r) throw new BulkheadError('DOCUMENT_NOT_FOUND', 'that passage is no longer in this client’s library');
  return {
    chunkId: r.id,
    documentId: r.document_id,
    title: r.title,
    sourcePath: r.source_path,
    page: r.page,
    headingPath: r.heading_path ? (JSON.parse(r.heading_path) as string[]) : [],
    charStart: r.char_start,
    charEnd: r.char_end,
    text: r.text,
  };
}
