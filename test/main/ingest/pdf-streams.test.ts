import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handmadePdf, lzwZeros } from '../../../bench/parsers/hostile-files.js';
import { DEFAULT_MAX_BYTES, ParseError, parseFile } from '../../../src-main/ingest/parsers/index.js';
import { lzwLength, runLengthLength } from '../../../src-main/ingest/parsers/pdf-streams.js';

// PDF streams whose filter has no header to know it by (LZW, run-length): their decoded length is
// counted from the codes before pdf.js decodes them, which it does whole, outside the heap cap.
const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-pdf-streams-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof ParseError) return err.code;
    throw err;
  }
}

describe('PDF streams counted before pdf.js decodes them', () => {
  it('counts the LZW example of the PDF reference (codes 256 45 258 258 65 259 66 257: "-----A---B", 10 bytes)', () => {
    expect(lzwLength(Buffer.from('800B6050220C0C8501', 'hex'), 1, 1e9)).toBe(10);
    expect(lzwLength(lzwZeros(10 * MiB), 1, 1e12)).toBeGreaterThan(9.9 * MiB);
    expect(() => lzwLength(lzwZeros(10 * MiB), 1, MiB)).toThrow(ParseError);
  });

  it('counts run-length streams: a literal run, a repeated run, the end marker', () => {
    // 2 literal bytes (n = 1), then 0xff repeated 257 - 0x81 = 128 times, then end (128), then ignored.
    expect(runLengthLength(Buffer.from([1, 0x41, 0x42, 0x81, 0xff, 128, 5, 1]), 1e9)).toBe(130);
  });

  it('an LZW content stream that decodes past the limit is ZIP_BOMB; a small one is read', async () => {
    const bomb = join(dir, 'lzw.pdf');
    await writeFile(bomb, handmadePdf([lzwZeros(64 * MiB)], 1, 'LZWDecode'));
    expect(await code(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 16 * MiB }))).toBe('ZIP_BOMB');
    // Within the limit the zeros are whitespace to pdf.js: a page of no text, not a refusal for size.
    expect(await code(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 128 * MiB }))).toBe('EMPTY');
  });

  it('a run-length content stream 64 times its size, past the limit, is ZIP_BOMB', async () => {
    const runs = Buffer.alloc(2 * 300_000);
    for (let i = 0; i < runs.length; i += 2) runs[i] = 129; // 128 copies of the next byte (0)
    const bomb = join(dir, 'rl.pdf');
    await writeFile(bomb, handmadePdf([runs], 1, 'RunLengthDecode'));
    expect(await code(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 16 * MiB }))).toBe('ZIP_BOMB');
  });
});
