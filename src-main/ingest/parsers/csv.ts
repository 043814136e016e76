import { parse, CsvError } from 'csv-parse';
import type { ParseContext, ParsedDocument } from './document.js';
import { ParseError, throwIfStopped } from './parse-error.js';
import { decodeText } from './text-decoding.js';

const DELIMITERS = [',', ';', '\t', '|'] as const;
/** One record larger than this is not a table row; it bounds the parser's buffer. */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * CSV becomes one block per row of "header: value" lines (empty cells left out), rows separated
 * by a blank line so chunks cut between rows. The first row is taken as the header.
 */
export async function parseCsv(bytes: Uint8Array, ctx: ParseContext): Promise<ParsedDocument> {
  const source = decodeText(bytes);
  const parser = parse(source, {
    bom: true,
    delimiter: guessDelimiter(source),
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
  });

  let header: string[] | undefined;
  const rows: string[] = [];
  let seen = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (++seen % 4096 === 0) throwIfStopped(ctx.signal);
      if (!header) {
        header = record.map((name, i) => name.trim() || `column ${i + 1}`);
        continue;
      }
      const lines: string[] = [];
      record.forEach((cell, i) => {
        const value = cell.trim();
        if (value !== '') lines.push(`${header?.[i] ?? `column ${i + 1}`}: ${value}`);
      });
      if (lines.length === 0) continue;
      const row = lines.join('\n');
      ctx.textBudget.spend(row.length + 2);
      rows.push(row);
    }
  } catch (err) {
    if (err instanceof CsvError) throw new ParseError('CORRUPT', 'This file is not valid CSV.', { cause: err });
    throw err;
  }
  // A header with no rows still names what the table would hold: that is its only text.
  const text = (rows.length > 0 ? rows.join('\n\n') : (header ?? []).join(', ')).trim();
  return { title: ctx.fallbackTitle, format: 'csv', sections: text === '' ? [] : [{ text }] };
}

/** The candidate that occurs most often outside quotes in the first line; comma when none does. */
function guessDelimiter(source: string): string {
  const end = source.search(/\r?\n/);
  const firstLine = (end === -1 ? source : source.slice(0, end)).replace(/"[^"]*"/g, '');
  let best: string = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = firstLine.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}
