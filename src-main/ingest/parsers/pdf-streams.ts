import zlib from 'node:zlib';
import { ParseError } from './parse-error.js';

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');
/** Filters stacked on one stream that we follow (Flate of Flate is how a small bomb gets smaller). */
const MAX_LAYERS = 4;

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
