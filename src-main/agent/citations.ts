import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';

/** Where a cited passage comes from: enough to show it and open its document. */
export interface Citation {
  id: string;
  chunkId: number;
  documentId: number;
  title: string;
  sourcePath: string;
  page: number | null;
  headingPath: string[];
  charStart: number;
  charEnd: number;
  text: string;
}

interface Row {
  chunkId: number;
  documentId: number;
  title: string;
  sourcePath: string;
  page: number | null;
  headingPath: string | null;
  charStart: number;
  charEnd: number;
  text: string;
}

/** Resolves a citation's chunk in the open tenant to its passage and document. */
export function resolveCitation(tenant: TenantHandle, id: string, chunkId: number): Citation {
  const row = tenant.db
    .prepare(
      `SELECT c.id AS chunkId, c.document_id AS documentId, d.title, d.source_path AS sourcePath, c.page, c.heading_path AS headingPath,
              c.char_start AS charStart, c.char_end AS charEnd, c.text
         FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?`,
    )
    .get(chunkId) as Row | undefined;
  if (!row) throw new BulkheadError('DOCUMENT_NOT_FOUND', `the passage cited as ${id} is no longer in this tenant (its document was deleted or re-ingested)`);
  return { id, ...row, headingPath: row.headingPath ? (JSON.parse(row.headingPath) as string[]) : [] };
}

/** The citation ids an answer uses, in order of first use, restricted to those it was given. */
export function citedIds(answer: string, known: ReadonlySet<string>): string[] {
  const seen: string[] = [];
  for (const m of answer.matchAll(/\[(S\d{1,4})\]/g)) {
    const id = m[1]!;
    if (known.has(id) && !seen.includes(id)) seen.push(id);
  }
  // Answers that cite as [S1, S2] or [S1][S2].
  for (const m of answer.matchAll(/\[(S\d{1,4}(?:\s*,\s*S\d{1,4})+)\]/g)) {
    for (const id of m[1]!.split(/\s*,\s*/)) if (known.has(id) && !seen.includes(id)) seen.push(id);
  }
  return seen;
}
