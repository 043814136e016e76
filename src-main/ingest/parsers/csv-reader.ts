// A small streaming CSV reader (RFC 4180: quoted fields, doubled quotes, CR / LF / CRLF line ends)
// that counts cells and the size of the record it is in while it reads, and refuses the document
// the moment one crosses its limit. csv-parse, which this replaces, checked nothing until it had
// built the records: 60M empty cells took 66 s and 2.5 GB before the worker's heap cap ended it.
import { MAX_CSV_CELLS, MAX_CSV_RECORD_CHARS, tooMany } from './limits.js';
import { ParseError } from './parse-error.js';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
/** Records read between two yields to the event loop (where the deadline and cancellation are seen). */
export const CSV_YIELD_EVERY = 65_536;
/** The delimiter is guessed on the first record, read at most this far. */
const SNIFF_CHARS = 64 * 1024;
const DELIMITERS = [',', ';', '\t', '|'] as const;

export interface CsvReadOptions {
  delimiter?: string;
  maxCells?: number;
  maxRecordChars?: number;
  /** Called every CSV_YIELD_EVERY records, after a yield to the event loop: throw to stop. */
  checkpoint?: () => void;
}

/** Called with each record's cells; the array is the reader's own, reused for the next record. */
export type CsvRecordHandler = (cells: readonly string[]) => void;

/**
 * Hands each record of `source` to `onRecord`, as its cells. Lines that are wholly empty are skipped. A quote
 * inside an unquoted cell is kept as a character, and characters after a closing quote are kept
 * too (as spreadsheets export them); a quoted cell still open at the end is CORRUPT.
 */
export async function readCsv(source: string, onRecord: CsvRecordHandler, opts: CsvReadOptions = {}): Promise<void> {
  const delimiter = (opts.delimiter ?? guessDelimiter(source)).charCodeAt(0);
  const maxCells = opts.maxCells ?? MAX_CSV_CELLS;
  const maxRecord = opts.maxRecordChars ?? MAX_CSV_RECORD_CHARS;
  const n = source.length;
  let cells = 0;
  let records = 0;
  let i = 0;
  const record: string[] = [];
  while (i < n) {
    const recordStart = i;
    record.length = 0;
    let ended = false;
    while (!ended) {
      if (++cells > maxCells) throw tooMany('table cells');
      let cell: string;
      if (source.charCodeAt(i) === QUOTE) {
        // A quoted cell: runs to the quote that is not doubled; doubled quotes are one quote.
        let parts = '';
        let from = i + 1;
        for (;;) {
          const q = source.indexOf('"', from);
          if (q === -1 || q - recordStart > maxRecord) {
            if (q === -1 && n - recordStart <= maxRecord) throw new ParseError('CORRUPT', 'This file is not valid CSV (a quoted cell is never closed).');
            throw recordTooLong();
          }
          if (source.charCodeAt(q + 1) === QUOTE) {
            parts += source.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          parts += source.slice(from, q);
          i = q + 1;
          break;
        }
        // Anything between the closing quote and the end of the cell is kept as it stands.
        const end = cellEnd(source, i, delimiter);
        if (end > i) parts += source.slice(i, end);
        cell = parts;
        i = end;
      } else {
        const end = cellEnd(source, i, delimiter);
        cell = source.slice(i, end);
        i = end;
      }
      if (i - recordStart > maxRecord) throw recordTooLong();
      record.push(cell);
      const c = i < n ? source.charCodeAt(i) : LF;
      if (c === delimiter) {
        i++;
        continue;
      }
      // A record ends at CR, LF, CRLF or the end of the text.
      i += c === CR && source.charCodeAt(i + 1) === LF ? 2 : 1;
      ended = true;
    }
    if (record.length === 1 && record[0] === '' && source.charCodeAt(recordStart) !== QUOTE) {
      cells--;
    } else {
      onRecord(record);
    }
    if (++records % CSV_YIELD_EVERY === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      opts.checkpoint?.();
    }
  }
}

/** Where the unquoted run from `i` ends: at the delimiter, a CR or a LF, or the end of the text. */
function cellEnd(source: string, i: number, delimiter: number): number {
  const n = source.length;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === delimiter || c === LF || c === CR) return i;
    i++;
  }
  return n;
}

function recordTooLong(): ParseError {
  return new ParseError('TOO_LARGE', 'This file has a CSV record too long to be a table row.');
}

/** The candidate that occurs most often outside quotes in the first record; comma when none does. */
export function guessDelimiter(source: string): string {
  const counts = new Map<number, number>(DELIMITERS.map((d) => [d.charCodeAt(0), 0]));
  const end = Math.min(source.length, SNIFF_CHARS);
  let quoted = false;
  for (let i = 0; i < end; i++) {
    const c = source.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && (c === LF || c === CR)) break;
    else if (!quoted && counts.has(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: string = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = counts.get(d.charCodeAt(0)) ?? 0;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}
