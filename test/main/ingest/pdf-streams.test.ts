import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handmadePdf, lzwLiterals, lzwZeros } from '../../../bench/parsers/hostile-files.js';
import { DEFAULT_MAX_BYTES, ParseError, parseFile } from '../../../src-main/ingest/parsers/index.js';
import { lzwDecode, runLengthDecode } from '../../../src-main/ingest/parsers/pdf-streams.js';
import { parseOutcome } from '../../helpers/documents.js';

// PDF streams whose filter has no header to know it by (LZW, run-length): they are decoded with
// their output capped before pdf.js decodes them, which it does whole, outside the heap cap; a
// zlib stream inside one is inflated (capped) in turn.
const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-pdf-streams-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PDF streams decoded, capped, before pdf.js decodes them', () => {
  it('counts the LZW example of the PDF reference (codes 256 45 258 258 65 259 66 257: "-----A---B", 10 bytes)', () => {
    expect(lzwDecode(Buffer.from('800B6050220C0C8501', 'hex'), 1, 1e9).toString('latin1')).toBe('-----A---B');
    const zeros = lzwDecode(lzwZeros(10 * MiB), 1, 1e12);
    expect(zeros.length).toBeGreaterThan(9.9 * MiB);
    expect(zeros.every((b) => b === 0)).toBe(true);
    expect(() => lzwDecode(lzwZeros(10 * MiB), 1, MiB)).toThrow(ParseError);
    const text = Buffer.from('Any bytes at all: \u0000\u00ff and a sentence repeated. '.repeat(40), 'latin1');
    expect(lzwDecode(lzwLiterals(text), 1, 1e9).equals(text)).toBe(true);
  });

  it('counts run-length streams: a literal run, a repeated run, the end marker', () => {
    // 2 literal bytes (n = 1), then 0xff repeated 257 - 0x81 = 128 times, then end (128), then ignored.
    expect(runLengthDecode(Buffer.from([1, 0x41, 0x42, 0x81, 0xff, 128, 5, 1]), 1e9)).toEqual(Buffer.concat([Buffer.from('AB'), Buffer.alloc(128, 0xff)]));
  });

  it('an LZW content stream that decodes past the limit is ZIP_BOMB; a small one is read', async () => {
    const bomb = join(dir, 'lzw.pdf');
    await writeFile(bomb, handmadePdf([lzwZeros(64 * MiB)], 1, 'LZWDecode'));
    expect(await parseOutcome(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 16 * MiB }))).toBe('ZIP_BOMB');
    // Within the limit the zeros are whitespace to pdf.js: a page of no text, not a refusal for size.
    expect(await parseOutcome(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 128 * MiB }))).toBe('EMPTY');
  });

  it('a run-length content stream 64 times its size, past the limit, is ZIP_BOMB', async () => {
    const runs = Buffer.alloc(2 * 300_000);
    for (let i = 0; i < runs.length; i += 2) runs[i] = 129; // 128 copies of the next byte (0)
    const bomb = join(dir, 'rl.pdf');
    await writeFile(bomb, handmadePdf([runs], 1, 'RunLengthDecode'));
    expect(await parseOutcome(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 16 * MiB }))).toBe('ZIP_BOMB');
  });

  it('a zlib bomb hidden inside an LZW stream ([/LZWDecode /FlateDecode]) is ZIP_BOMB; a small page behind the same filters is read', async () => {
    const bomb = join(dir, 'lzw-flate.pdf');
    // 64 MiB of spaces deflate to about 64 KB; LZW of that is a little larger. Counting only the
    // LZW output (what was done before) saw 70 KB and let pdf.js inflate the 64 MiB.
    const deflated = zlib.deflateSync(Buffer.alloc(64 * MiB, 0x20), { level: 9 });
    await writeFile(bomb, handmadePdf([lzwLiterals(deflated)], 1, '[/LZWDecode /FlateDecode]'));
    expect(await parseOutcome(parseFile(bomb, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 16 * MiB }))).toBe('ZIP_BOMB');

    const page = join(dir, 'lzw-flate-page.pdf');
    const content = zlib.deflateSync(Buffer.from('BT /F1 12 Tf 20 100 Td (Quarterly ledger behind two filters) Tj ET', 'latin1'));
    await writeFile(page, handmadePdf([lzwLiterals(content)], 1, '[/LZWDecode /FlateDecode]'));
    const doc = (await parseFile(page, { maxBytes: DEFAULT_MAX_BYTES, maxExpandedBytes: 16 * MiB })) as { text?: string; sections?: { text: string }[] };
    expect(JSON.stringify(doc)).toContain('Quarterly ledger behind two filters');
  });
});
