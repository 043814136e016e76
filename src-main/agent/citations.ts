import { BulkheadError } from '../../src-shared/errors.js';
import { storedPassages } from '../retrieval/knowledge.js';
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

/** Resolves a citation's chunk in the open tenant to its passage and document. */
export function resolveCitation(tenant: TenantHandle, id: string, chunkId: number): Citation {
  const found = storedPassages(tenant, [chunkId]).get(chunkId);
  if (!found) throw new BulkheadError('DOCUMENT_NOT_FOUND', `the passage cited as ${id} is no longer in this tenant (its document was deleted or re-ingested)`);
  const { ordinal: _ordinal, ...passage } = found;
  return { id, ...passage };
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
