// `bulkhead docs tag` and `bulkhead docs show`: what the console's tags and document reader do.
import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { documentSegments, normaliseTags, retagDocument } from '../ingest/document-filters.js';
import { getDocument } from '../ingest/documents.js';
import { openTenant, wrap } from './context.js';

function documentId(id: string | undefined): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n < 1) throw new BulkheadError('INPUT_INVALID', 'a document id is a positive whole number');
  return n;
}

export function registerDocumentCommands(docs: Command): void {
  docs
    .command('tag')
    .description("add or remove a document's tags")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--add <tag...>', 'tags to add')
    .option('--remove <tag...>', 'tags to remove (case-insensitive)')
    .argument('<id>', 'document id (from docs list)')
    .action(
      wrap(async (vault, opts, id) => {
        const o = opts as { tenant?: string; add?: string[]; remove?: string[] };
        const tenant = await openTenant(vault, o.tenant);
        const doc = getDocument(tenant, documentId(id));
        const remove = new Set((o.remove ?? []).map((t) => t.normalize('NFC').trim().toLowerCase()));
        // --remove wins over --add for the same tag.
        const next = normaliseTags([...doc.tags, ...(o.add ?? [])]).filter((t) => !remove.has(t.toLowerCase()));
        const saved = retagDocument(tenant, doc.id, next);
        return { json: saved, text: `Document ${saved.id} "${saved.title}": ${saved.tags.length ? saved.tags.join(', ') : 'no tags'}` };
      }),
    );
  docs
    .command('show')
    .description('print a whole document, rebuilt from its passages')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .argument('<id>', 'document id (from docs list)')
    .action(
      wrap(async (vault, opts, id) => {
        const tenant = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const view = documentSegments(tenant, documentId(id));
        const text = [
          `${view.document.title}  (${view.document.format}, ${view.document.sourcePath})`,
          '',
          view.segments.map((s) => s.text).join(''),
          view.truncated ? '\n[truncated]' : '',
        ]
          .join('\n')
          .trimEnd();
        return { json: view, text };
      }),
    );
}
