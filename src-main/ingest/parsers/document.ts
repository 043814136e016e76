// What every parser hands to the chunker: plain text in sections that carry their provenance.
import type { TextBudget } from './limits.js';

export type DocumentFormat = 'txt' | 'md' | 'html' | 'pdf' | 'docx' | 'csv' | 'json' | 'pptx' | 'xlsx' | 'odt' | 'eml';

export interface ParsedSection {
  text: string;
  /** 1-based page number, for formats that have pages (PDF). */
  page?: number;
  /** Enclosing headings, outermost first, for formats that have headings (md, html, docx). */
  headingPath?: string[];
}

export interface ParsedDocument {
  title: string;
  format: DocumentFormat;
  sections: ParsedSection[];
}

export interface ParseOptions {
  /** Files larger than this are refused (TOO_LARGE) from their size on disk, before any read. */
  maxBytes: number;
  signal?: AbortSignal;
  /** Deadline for the whole parse; exceeding it gives TIMEOUT (checked between steps). */
  timeoutMs?: number;
  /** A .docx whose parts would expand beyond this is refused as ZIP_BOMB. Default: 4 × maxBytes. */
  maxExpandedBytes?: number;
  /** The content, when it is held in memory rather than read from `path` (the console's sealed uploads). */
  bytes?: Buffer;
}

/** What a format parser receives once the bytes are in memory and bounded. */
export interface ParseContext {
  /** The file name without its extension: the title when the document names none. */
  fallbackTitle: string;
  maxExpandedBytes: number;
  signal: AbortSignal | undefined;
  /** What the parser may produce; spent as text is emitted (see limits.ts). */
  textBudget: TextBudget;
}
