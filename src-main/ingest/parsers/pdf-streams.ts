import zlib from 'node:zlib';
import { ParseError } from './parse-error.js';

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');
/** Filters stacked on one stream that we follow (Flate of Flate is how a small bomb gets smaller). */
const MAX_LAYERS = 4;
/** How far before "stream" its dictionary (with its /Filter) is looked for. */
const DICT_LOOKBACK = 1024;

/**
 * pdf.js inflates a stream whole when it reads it, into memory outside any heap cap, so a 1 MB
 * PDF can ask for gigabytes. Every zlib stream in the file (and every zlib stream inside one) is
 * inflated here first, once, with its output capped by what is left of `maxExpandedBytes`; the
 * output is dropped straight away. Streams that are not zlib or are damaged are left to pdf.js.
 */
export function refusePdfCompressionBomb(bytes: Uint8Array, maxExpandedBytes: number): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let left = maxExpandedBytes;
  for (let at = buf.indexOf(STREAM); at !== -1; at = buf.indexOf(STREAM, at + 1)) {
    if (at >= 3 && buf.subarray(at - 3, at).toString('latin1') === 'end') continue;
    let start = at + STREAM.length;
    if (buf[start] === 0x0d) start++;
    if (buf[start] !== 0x0a) continue;
    start++;
    const end = buf.indexOf(END_STREAM, start);
    if (end === -1) break;
    let data: Buffer = buf.subarray(start, end);
    for (let layer = 0; layer < MAX_LAYERS && data.length > 1 && isZlib(data); layer++) {
      const out = inflateCapped(data, left);
      if (out === null) break;
      left -= out.length;
      data = out;
    }
    // LZW and run-length have no header to know them by: the stream's dictionary names them.
    const dict = buf.subarray(Math.max(0, at - DICT_LOOKBACK), at).toString('latin1');
    const filter = /\/(LZWDecode|LZW|RunLengthDecode|RL)\b/.exec(dict.slice(dict.lastIndexOf('<<')))?.[1];
    if (filter === 'LZWDecode' || filter === 'LZW') left -= lzwLength(data, /\/EarlyChange\s+0\b/.test(dict) ? 0 : 1, left);
    else if (filter) left -= runLengthLength(data, left);
    at = end;
  }
}

function isZlib(data: Buffer): boolean {
  return (data[0]! & 0x0f) === 8 && ((data[0]! << 8) | data[1]!) % 31 === 0;
}

function inflateCapped(data: Buffer, left: number): Buffer | null {
  try {
    return zlib.inflateSync(data, { maxOutputLength: Math.max(1, left), finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ParseError('ZIP_BOMB', 'This PDF was refused: its compressed content expands beyond the size limit.');
    }
    return null; // not zlib after all, or damaged: pdf.js decides
  }
}

function expandsTooFar(): ParseError {
  return new ParseError('ZIP_BOMB', 'This PDF was refused: its compressed content expands beyond the size limit.');
}

/**
 * The length of what an LZW stream decodes to, as pdf.js decodes it (9 to 12-bit codes, MSB
 * first, 256 clears, 257 ends), without producing it: only each code's length is kept. A 12-bit
 * code can stand for 3,839 bytes, so 200 KB of LZW can ask pdf.js for half a gigabyte.
 */
export function lzwLength(data: Uint8Array, earlyChange: 0 | 1, cap: number): number {
  const lengths = new Uint16Array(4096);
  lengths.fill(1, 0, 256);
  let nextCode = 258;
  let codeLength = 9;
  let prevLength = 0;
  let total = 0;
  let bits = 0;
  let cached = 0;
  let at = 0;
  for (;;) {
    while (bits < codeLength && at < data.length) {
      cached = ((cached << 8) | data[at++]!) & 0xffffff;
      bits += 8;
    }
    if (bits < codeLength) return total;
    bits -= codeLength;
    const code = (cached >>> bits) & ((1 << codeLength) - 1);
    let length: number;
    if (code < 256) length = 1;
    else if (code === 256) {
      codeLength = 9;
      nextCode = 258;
      prevLength = 0;
      continue;
    } else if (code === 257) return total;
    else length = code < nextCode ? lengths[code]! : prevLength + 1;
    if (prevLength > 0) {
      if (nextCode < 4096) lengths[nextCode] = prevLength + 1;
      nextCode++;
      const n = nextCode + earlyChange;
      if ((n & (n - 1)) === 0) codeLength = Math.min(Math.floor(Math.log2(n)) + 1, 12);
    }
    prevLength = length;
    total += length;
    if (total > cap) throw expandsTooFar();
  }
}

/** The length of what a run-length stream decodes to (a run of up to 128 bytes from two). */
export function runLengthLength(data: Uint8Array, cap: number): number {
  let total = 0;
  for (let at = 0; at < data.length; ) {
    const n = data[at]!;
    if (n === 128) break;
    if (n < 128) {
      total += n + 1;
      at += n + 2;
    } else {
      total += 257 - n;
      at += 2;
    }
    if (total > cap) throw expandsTooFar();
  }
  return total;
}
