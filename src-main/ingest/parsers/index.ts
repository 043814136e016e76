import { basename, extname } from 'node:path';
import { readBounded } from './bounded-read.js';
import { parseCsv } from './csv.js';
import type { DocumentFormat, ParseContext, ParsedDocument, ParseOptions } from './document.js';
import { parseDocx } from './docx.js';
import { parseHtml } from './html.js';
import { parseJson } from './json.js';
import { parseMarkdown } from './markdown.js';
import { TextBudget, textBudgetFor } from './limits.js';
import { ParseError, stoppedError, throwIfStopped } from './parse-error.js';
import { parsePdf } from './pdf.js';
import { parseText } from './txt.js';
import { parseEml } from './eml.js';
import { parseOdt } from './odt.js';
import { parsePptx } from './pptx.js';
import { parseXlsx } from './xlsx.js';

export type { DocumentFormat, ParsedDocument, ParsedSection, ParseOptions } from './document.js';
export { DEFAULT_PARSE_TIMEOUT_MS, PARSE_MEMORY_MB, parseFileIsolated, stopParseWorker } from './isolated.js';
export { isParseError, PARSE_ERROR_CODES, ParseError, type ParseErrorCode } from './parse-error.js';

/**
 * 64 MiB. Larger files are refused as TOO_LARGE from their size on disk, never read: the
 * parsers hold the whole file (and its text) in memory, so this limit is what bounds memory.
 */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The formats we read, by extension. To add one: a parser `(bytes, ctx) => ParsedDocument` in its
 * own file that spends `ctx.textBudget` as it emits text and refuses hostile structure before any
 * expensive step (see limits.ts), one line here, one in PARSERS below. Every parser then runs in
 * the parse worker (isolated.ts) under its memory cap and deadline, with nothing else to wire.
 */
export const FORMAT_BY_EXTENSION: Readonly<Record<string, DocumentFormat>> = {
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
  throwIfStopped(signal);
  // Bytes the caller holds itself (a sealed console upload, never written out in plaintext); they
  // cross into the parse worker as a Uint8Array.
  if (opts.bytes && opts.bytes.length > opts.maxBytes) throw new ParseError('TOO_LARGE', 'This file is larger than the limit for one file.');
  const given = opts.bytes ? Buffer.from(opts.bytes.buffer, opts.bytes.byteOffset, opts.bytes.byteLength) : undefined;
  const bytes = given ?? (await readBounded(path, opts.maxBytes, signal));
  const ctx: ParseContext = {
    fallbackTitle: basename(path, extname(path)),
    maxExpandedBytes: opts.maxExpandedBytes ?? 4 * opts.maxBytes,
    signal,
    textBudget: new TextBudget(textBudgetFor(bytes.length)),
  };
  let doc: ParsedDocument;
  try {
    doc = await PARSERS[format](bytes, ctx);
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

type Parser = (bytes: Buffer, ctx: ParseContext) => Promise<ParsedDocument> | ParsedDocument;

const PARSERS: Readonly<Record<DocumentFormat, Parser>> = {
  txt: parseText,
  md: parseMarkdown,
  html: parseHtml,
  pdf: parsePdf,
  docx: parseDocx,
  csv: parseCsv,
  json: parseJson,
  pptx: parsePptx,
  xlsx: parseXlsx,
  odt: parseOdt,
  eml: parseEml,
};

/** Extensions a folder walk picks up: the ones a parser is registered for. */
export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(FORMAT_BY_EXTENSION);

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
