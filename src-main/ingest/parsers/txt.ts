import type { ParseContext, ParsedDocument } from './document.js';
import { decodeText, normalizeNewlines } from './text-decoding.js';

/** Plain text is one section: paragraphs are the chunker's business, not the parser's. */
export function parseText(bytes: Uint8Array, ctx: ParseContext): ParsedDocument {
  const text = normalizeNewlines(decodeText(bytes)).trim();
  return { title: ctx.fallbackTitle, format: 'txt', sections: text === '' ? [] : [{ text }] };
}
