import { basename, extname } from 'node:path';
import { readBounded } from './bounded-read.js';
import { parseCsv } from './csv.js';
import type { DocumentFormat, ParseContext, ParsedDocument, ParseOptions } from './document.js';
import { parseDocx } from './docx.js';
import { parseHtml } from './html.js';
import { parseJson } from './json.js';
import { parseMarkdown } from './markdown.js';
import { ParseError, stoppedError, throwIfStopped } from './parse-error.js';
import { parsePdf } from './pdf.js';
import { parseText } from './txt.js';
import { parseEml } from './eml.js';
import { parseOdt } from './odt.js';
import { parsePptx } from './pptx.js';
import { parseXlsx } from './xlsx.js';

export type { DocumentFormat, ParsedDocument, ParsedSection, ParseOptions } from './document.js';
export { isParseError, PARSE_ERROR_CODES, ParseError, type ParseErrorCode } from './parse-error.js';

/**
 * 64 MiB. Larger files are refused as TOO_LARGE from their size on disk, never read: the
 * parsers hold the whole file (and its text) in memory, so this limit is what bounds memory.
 */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

const FORMAT_BY_EXTENSION: Readonly<Record<string, DocumentFormat>> = {
  '.txt': 'txt',
  '.md': 'md',
  '.markdown': 'md',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
  '.docx': 'docx',
  '.csv': 'csv',
  '.json': 'json',
  '.pptx': 'pptx',
  '.xlsx': 'xlsx',
  '.odt': 'odt',
  '.eml': 'eml',
};

/**
 * Reads one file into plain-text sections. The format is chosen by extension, then the content
 * must agree (a binary file named .txt is BINARY, a .pdf must start with %PDF, a .docx must be a
 * zip). Every refusal is a ParseError with a code; nothing else escapes for a hostile file.
 */
export async function parseFile(path: string, opts: ParseOptions): Promise<ParsedDocument> {
  const extension = extname(path).toLowerCase();
  const format = FORMAT_BY_EXTENSION[extension];
  if (!format) {
    throw new ParseError('UNSUPPORTED_TYPE', `Files of type "${extension || 'none'}" cannot be added.`);
  }
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes <= 0) {
    throw new RangeError('maxBytes must be a positive integer');
  }
  const signal = withDeadline(opts.signal, opts.timeoutMs);
  const ctx: ParseContext = {
    fallbackTitle: basename(path, extname(path)),
    maxExpandedBytes: opts.maxExpandedBytes ?? 4 * opts.maxBytes,
    signal,
  };

  throwIfStopped(signal);
  const bytes = await readBounded(path, opts.maxBytes, signal);
  let doc: ParsedDocument;
  try {
    doc = await parseBytes(format, bytes, ctx);
  } catch (err) {
    throw asParseError(err, signal);
  }
  throwIfStopped(signal);
  if (doc.sections.length === 0) {
    const hint = format === 'pdf' ? ' Scanned pages are images: they need OCR first.' : '';
    throw new ParseError('EMPTY', `This document contains no text.${hint}`);
  }
  return doc;
}

function parseBytes(format: DocumentFormat, bytes: Buffer, ctx: ParseContext): Promise<ParsedDocument> | ParsedDocument {
  switch (format) {
    case 'txt':
      return parseText(bytes, ctx);
    case 'md':
      return parseMarkdown(bytes, ctx);
    case 'html':
      return parseHtml(bytes, ctx);
    case 'pdf':
      return parsePdf(bytes, ctx);
    case 'docx':
      return parseDocx(bytes, ctx);
    case 'csv':
      return parseCsv(bytes, ctx);
    case 'json':
      return parseJson(bytes, ctx);
    case 'pptx':
      return parsePptx(bytes, ctx);
    case 'xlsx':
      return parseXlsx(bytes, ctx);
    case 'odt':
      return parseOdt(bytes, ctx);
    case 'eml':
      return parseEml(bytes, ctx);
  }
}

function asParseError(err: unknown, signal: AbortSignal | undefined): ParseError {
  if (err instanceof ParseError) return err;
  if (signal?.aborted) return stoppedError(signal);
  // A third-party parser that recursed on nesting we could not pre-measure (markdown quotes,
  // Word tables) ends in a RangeError: the file is refused, the process carries on.
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new ParseError('TOO_DEEP', 'This document is nested too deeply to read.', { cause: err });
  }
  // Any other failure inside a third-party parser is, for the user, a file we could not read;
  // the original error stays attached as the cause for the logs.
  return new ParseError('CORRUPT', 'This document could not be read.', { cause: err });
}

function withDeadline(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal | undefined {
  if (timeoutMs === undefined) return signal;
  const deadline = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}
