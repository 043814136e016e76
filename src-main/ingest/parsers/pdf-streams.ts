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
    // LZW and run-length have no header to know them by: the stream's dictionary names them. They
    // are decoded (capped) rather than only counted, since a zlib stream may hide inside them.
    const dict = buf.subarray(Math.max(0, at - DICT_LOOKBACK), at).toString('latin1');
    let headerless = /\/(LZWDecode|LZW|RunLengthDecode|RL)\b/.exec(dict.slice(dict.lastIndexOf('<<')))?.[1] ?? null;
    for (let layer = 0; layer < MAX_LAYERS && data.length > 1; layer++) {
      const inflated = isZlib(data) ? inflateCapped(data, left) : null;
      if (inflated) {
        left -= inflated.length;
        data = inflated;
        continue;
      }
      if (!headerless) break;
      data = headerless.startsWith('L') ? lzwDecode(data, /\/EarlyChange\s+0\b/.test(dict) ? 0 : 1, left) : runLengthDecode(data, left);
      left -= data.length;
      headerless = null;
    }
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

/** Bytes appended up to `cap` (past it: ZIP_BOMB), in a buffer that doubles as it fills. */
class CappedOutput {
  #buf: Buffer;
  length = 0;
  constructor(
    private readonly cap: number,
    hint: number,
  ) {
    this.#buf = Buffer.allocUnsafe(Math.max(1, Math.min(cap, hint)));
  }

  /** Room for `n` more bytes at `this.length`; the buffer to write them into. */
  reserve(n: number): Buffer {
    if (this.length + n > this.cap) throw expandsTooFar();
    if (this.length + n > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.min(this.cap, Math.max(this.length + n, this.#buf.length * 2)));
      this.#buf.copy(next, 0, 0, this.length);
      this.#buf = next;
    }
    return this.#buf;
  }

  bytes(): Buffer {
    return this.#buf.subarray(0, this.length);
  }
}

/**
 * An LZW stream decoded as pdf.js decodes it (9 to 12-bit codes, MSB first, 256 clears, 257 ends),
 * its output capped at `cap` bytes. A 12-bit code can stand for 3,839 bytes, so 200 KB of LZW can
 * ask pdf.js for half a gigabyte; and what it decodes to may be a zlib stream in turn.
 */
export function lzwDecode(data: Uint8Array, earlyChange: 0 | 1, cap: number): Buffer {
  // Entry c is entry prefix[c] followed by the byte suffix[c]; first[c] is its first byte.
  const prefix = new Int16Array(4096).fill(-1);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const lengths = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    suffix[i] = i;
    first[i] = i;
    lengths[i] = 1;
  }
  const out = new CappedOutput(cap, data.length * 4);
  let nextCode = 258;
  let codeLength = 9;
  let prev = -1;
  let bits = 0;
  let cached = 0;
  let at = 0;
  const write = (code: number): void => {
    const buf = out.reserve(lengths[code]!);
    for (let c = code, i = out.length + lengths[code]! - 1; c >= 0; c = prefix[c]!, i--) buf[i] = suffix[c]!;
    out.length += lengths[code]!;
  };
  for (;;) {
    while (bits < codeLength && at < data.length) {
      cached = ((cached << 8) | data[at++]!) & 0xffffff;
      bits += 8;
    }
    if (bits < codeLength) break;
    bits -= codeLength;
    const code = (cached >>> bits) & ((1 << codeLength) - 1);
    if (code === 256) {
      codeLength = 9;
      nextCode = 258;
      prev = -1;
      continue;
    }
    if (code === 257) break;
    // Known: a byte or an entry defined so far (once the table is full, every code is known).
    const known = code < 256 || code < nextCode;
    if (!known && (prev < 0 || nextCode >= 4096)) break; // damaged: pdf.js stops here too
    // Each code after the first defines the next entry: the previous entry and one byte more.
    if (prev >= 0 && nextCode < 4096) define(nextCode, prev, known ? first[code]! : first[prev]!);
    const shown = known ? code : nextCode;
    write(shown);
    if (prev >= 0) {
      nextCode++;
      const n = nextCode + earlyChange;
      if ((n & (n - 1)) === 0) codeLength = Math.min(Math.floor(Math.log2(n)) + 1, 12);
    }
    prev = shown;
  }
  return out.bytes();

  function define(code: number, of: number, byte: number): void {
    prefix[code] = of;
    suffix[code] = byte;
    first[code] = first[of]!;
    lengths[code] = lengths[of]! + 1;
  }
}

/** A run-length stream decoded (a run of up to 128 bytes from two), its output capped at `cap` bytes. */
export function runLengthDecode(data: Uint8Array, cap: number): Buffer {
  const out = new CappedOutput(cap, data.length * 4);
  for (let at = 0; at < data.length; ) {
    const n = data[at]!;
    if (n === 128) break;
    if (n < 128) {
      const run = data.subarray(at + 1, at + 2 + n);
      out.reserve(run.length).set(run, out.length);
      out.length += run.length;
      at += n + 2;
    } else {
      const count = 257 - n;
      out.reserve(count).fill(data[at + 1] ?? 0, out.length, out.length + count);
      out.length += count;
      at += 2;
    }
  }
  return out.bytes();
}
