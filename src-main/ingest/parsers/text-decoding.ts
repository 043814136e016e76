import { ParseError } from './parse-error.js';

const SNIFF_BYTES = 64 * 1024;
/** Above this share of control bytes in the first 64 KiB, a "text" file is taken for binary. */
const MAX_CONTROL_RATIO = 0.02;
/**
 * Invalid UTF-8 policy: a few bad bytes in a long text (a stray Latin-1 "é" pasted into a UTF-8
 * note) are kept as U+FFFD, so one typo does not lose a whole document; beyond 1% of characters
 * the file is refused as INVALID_ENCODING, because it is then most likely another encoding or a
 * mis-named binary, and storing replacement characters would put garbage into the tenant's index.
 */
const MAX_INVALID_RATIO = 0.01;

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Turns the bytes of a text format (txt, md, html, csv, json) into a string, refusing binary
 * content and text in an encoding we would only garble. UTF-8 with or without a BOM, and UTF-16
 * with a BOM (what Windows tools write), are accepted.
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16(bytes.subarray(2), 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16(bytes.subarray(2), 'utf-16be');
  const hasBom = bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2];
  const body = hasBom ? bytes.subarray(3) : bytes;

  refuseBinaryBytes(body.subarray(0, SNIFF_BYTES));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    // Not valid UTF-8: measure how much is broken before deciding (see MAX_INVALID_RATIO).
  }
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(body);
  const invalid = countChar(text, 0xfffd) - countLiteralReplacementChars(body);
  if (invalid > text.length * MAX_INVALID_RATIO) {
    throw new ParseError('INVALID_ENCODING', 'This file is not UTF-8 text (too many invalid bytes). Save it as UTF-8 and try again.');
  }
  return text;
}

function decodeUtf16(body: Uint8Array, encoding: 'utf-16le' | 'utf-16be'): string {
  const text = new TextDecoder(encoding, { fatal: false, ignoreBOM: true }).decode(body);
  refuseBinaryText(text.slice(0, SNIFF_BYTES / 2));
  if (countChar(text, 0xfffd) > text.length * MAX_INVALID_RATIO) {
    throw new ParseError('INVALID_ENCODING', 'This UTF-16 file has too many invalid characters.');
  }
  return text;
}

/** NUL never occurs in text; other C0 controls (bar tab, newlines, form feed, escape) rarely do. */
function isSuspectControl(c: number): boolean {
  return c < 0x20 ? c !== 0x09 && c !== 0x0a && c !== 0x0b && c !== 0x0c && c !== 0x0d && c !== 0x1b : c === 0x7f;
}

function refuseBinaryBytes(sample: Uint8Array): void {
  let controls = 0;
  for (const c of sample) {
    if (c === 0) throw binary();
    if (isSuspectControl(c)) controls++;
  }
  if (controls > sample.length * MAX_CONTROL_RATIO) throw binary();
}

function refuseBinaryText(sample: string): void {
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) throw binary();
    if (isSuspectControl(c)) controls++;
  }
  if (controls > sample.length * MAX_CONTROL_RATIO) throw binary();
}

function binary(): ParseError {
  return new ParseError('BINARY', 'This file holds binary data, not text.');
}

function countChar(text: string, code: number): number {
  const ch = String.fromCharCode(code);
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/** A U+FFFD that was validly encoded in the file is content, not damage. */
function countLiteralReplacementChars(bytes: Uint8Array): number {
  const needle = Buffer.from([0xef, 0xbf, 0xbd]);
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 3)) n++;
  return n;
}

/** Line endings in the product are "\n"; sections are compared and offset on that basis. */
export function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}
