// The bounds every parser works within, checked while reading rather than after: a document that
// crosses one is refused (TOO_DEEP / TOO_LARGE) before the expensive step that would take the
// time or the memory. The parse worker (isolated.ts) adds a memory cap and a deadline behind them,
// for whatever a third-party parser does that these checks do not foresee.
import { ParseError } from './parse-error.js';

/** Nesting of markdown containers (list items, block quotes) on one line; marked's cost is cubic in it. */
export const MAX_MARKDOWN_DEPTH = 100;
/** Emphasis, strike and link delimiters in one paragraph; marked recurses on them and slows quadratically. */
export const MAX_MARKDOWN_INLINE_MARKS = 4000;
/**
 * The sum, over a markdown file's paragraphs, of the square of each one's emphasis and link marks:
 * marked's inline work. ~4 ns each, so about 4 s; a 780 KB file of 100 paragraphs of 3,900 marks
 * (1.5e9) took 6.3 s, and 64 MB of them would run ~8 minutes, each within the per-paragraph cap.
 */
export const MAX_MARKDOWN_INLINE_WORK = 1_000_000_000;
/** Table cell separators in a whole markdown file; marked holds ~1 KB per table row. */
export const MAX_MARKDOWN_TABLE_CELLS = 400_000;
/** Elements in one HTML page (or in the HTML that markdown and Word documents become). */
export const MAX_HTML_ELEMENTS = 4_000_000;
/** Element nesting inside a Word document's XML parts. */
export const MAX_XML_DEPTH = 1000;
/** Elements in one XML part of a Word document; mammoth needs ~1 KB and ~15 µs for each. */
export const MAX_XML_ELEMENTS = 1_500_000;
/** Values (array items, object members) in one JSON file: JSON.parse builds each one as an object. */
export const MAX_JSON_VALUES = 4_000_000;
/** Cells in one CSV file, empty ones included: each is a string the reader builds. */
export const MAX_CSV_CELLS = 8_000_000;
/** Characters in one CSV record (a row, with its quoted line breaks): more is not a table row. */
export const MAX_CSV_RECORD_CHARS = 1024 * 1024;
/** Pages in one PDF. */
export const MAX_PDF_PAGES = 20_000;
/**
 * Text a document may produce, in characters: formats that repeat a header or a key path on every
 * value (CSV, JSON) can otherwise turn a small file into gigabytes of text.
 */
export function textBudgetFor(inputBytes: number): number {
  return Math.max(16 * 1024 * 1024, 4 * inputBytes);
}

/** Counts the characters a parser produces, and refuses the document once it passes its budget. */
export class TextBudget {
  #left: number;
  constructor(readonly limit: number) {
    this.#left = limit;
  }

  spend(chars: number): void {
    this.#left -= chars;
    if (this.#left < 0) {
      throw new ParseError('TOO_LARGE', 'This document expands into more text than can be indexed.');
    }
  }
}

export function tooDeep(what: string): ParseError {
  return new ParseError('TOO_DEEP', `This document is nested too deeply to read (${what}).`);
}

export function tooMany(what: string): ParseError {
  return new ParseError('TOO_LARGE', `This document has too many ${what} to read.`);
}
