import type { ParseContext, ParsedDocument } from './document.js';
import { readCsv } from './csv-reader.js';
import { throwIfStopped } from './parse-error.js';
import { decodeText } from './text-decoding.js';

/** Rows joined into one string at a time: a few large strings instead of millions of small ones. */
const ROWS_PER_BATCH = 4096;

/**
 * CSV becomes one block per row of "header: value" lines (empty cells left out), rows separated
 * by a blank line so chunks cut between rows. The first row is taken as the header. The reader
 * (csv-reader.ts) refuses a table of too many cells or a record too long while it reads.
 */
export async function parseCsv(bytes: Uint8Array, ctx: ParseContext): Promise<ParsedDocument> {
  const source = decodeText(bytes);
  let header: string[] | undefined;
  const batches: string[] = [];
  let batch: string[] = [];
  const lines: string[] = [];
  const onRecord = (record: readonly string[]): void => {
    if (!header) {
      header = record.map((name, i) => name.trim() || `column ${i + 1}`);
      return;
    }
    lines.length = 0;
    for (let i = 0; i < record.length; i++) {
      const value = record[i]!.trim();
      if (value !== '') lines.push(`${header[i] ?? `column ${i + 1}`}: ${value}`);
    }
    if (lines.length === 0) return;
    const row = lines.join('\n');
    ctx.textBudget.spend(row.length + 2);
    batch.push(row);
    if (batch.length === ROWS_PER_BATCH) {
      batches.push(batch.join('\n\n'));
      batch = [];
    }
  };
  await readCsv(source, onRecord, { checkpoint: () => throwIfStopped(ctx.signal) });
  if (batch.length > 0) batches.push(batch.join('\n\n'));
  // A header with no rows still names what the table would hold: that is its only text.
  const text = (batches.length > 0 ? batches.join('\n\n') : (header ?? []).join(', ')).trim();
  return { title: ctx.fallbackTitle, format: 'csv', sections: text === '' ? [] : [{ text }] };
}
