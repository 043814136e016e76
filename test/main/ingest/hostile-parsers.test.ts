import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_FILES, handmadePdf } from '../../../bench/parsers/hostile-files.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { ParseError, parseFileIsolated, stopParseWorker } from '../../../src-main/ingest/parsers/index.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { freshVault } from '../../helpers/vault.js';
import { parseOutcome } from '../../helpers/documents.js';

// Every parser gets a pathological file of each kind (bench/parsers/hostile-files.ts: nesting,
// huge tables, many tiny elements, expansion and compression bombs) through the parse worker, as
// ingestion runs it. Each must end in its refusal code (or be read, for the large-but-sane ones)
// with this process's memory bounded. Time and memory figures: `npm run bench:parsers`.
const MiB = 1024 * 1024;
const opts = { maxBytes: 64 * MiB };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-hostile-'));
});
afterAll(async () => {
  await stopParseWorker();
  await rm(dir, { recursive: true, force: true });
});

/** Resident memory sampled while `work` runs: the worker's heap is in this process too. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const value = await work();
    return { value, growthMb: (Math.max(peak, process.memoryUsage().rss) - base) / MiB };
  } finally {
    clearInterval(timer);
  }
}

// The two bombs that take a minute to build at full size are tested at their real size by the bench
// and here with a lower expansion limit; everything else at the size the bench uses.
const HEAVY = new Set(['docx-zip-bomb-2GiB.docx', 'pdf-flate-bomb-1GiB.pdf', 'csv-2M-rows.csv', 'txt-60MB-tiny-lines.txt']);

describe('every parser is bounded before it works', () => {
  it.each(HOSTILE_FILES.filter((f) => !HEAVY.has(f.name)).map((f) => [f.name, f] as const))(
    '%s ends as expected, with memory bounded, and the worker serves the next file',
    async (name, file) => {
      const path = join(dir, name);
      await file.write(path);
      const { value, growthMb } = await peakGrowth(() => parseOutcome(parseFileIsolated(path, opts)));
      expect(value).toBe(file.expect);
      // The finding: 3.1 GB and out of heap. The worker's heap cap is 1 GiB; these stay far below.
      expect(growthMb).toBeLessThan(1100);
      await rm(path);
      await writeFile(join(dir, 'after.txt'), 'still reading files after that one');
      expect((await parseFileIsolated(join(dir, 'after.txt'), opts)).sections[0]?.text).toContain('still reading');
    },
  );

  it.each([
    ['csv-60M-empty-cells.csv', /too many table cells/],
    ['csv-9M-cells.csv', /too many table cells/],
    ['csv-4MiB-record.csv', /record too long/],
  ] as const)('%s is refused by a limit of the CSV reader itself, inside a worker of a quarter of the heap', async (name, message) => {
    // The worker's heap cap also ends in TOO_LARGE: the message tells the reader's refusal from it.
    const path = join(dir, name);
    await HOSTILE_FILES.find((f) => f.name === name)!.write(path);
    const err = await parseFileIsolated(path, { ...opts, memoryMb: 256 }).catch((e: unknown) => e);
    await rm(path);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).code).toBe('TOO_LARGE');
    expect((err as ParseError).message).toMatch(message);
  });

  it('a compressed PDF stream that inflates past the limit is ZIP_BOMB, and so is one inside another', async () => {
    const zlib = await import('node:zlib');
    const inner = zlib.deflateSync(Buffer.alloc(64 * MiB));
    for (const [label, stream] of [
      ['flate', inner],
      ['flate of flate', zlib.deflateSync(inner)],
    ] as const) {
      const path = join(dir, `bomb-${label.replace(/ /g, '-')}.pdf`);
      await writeFile(path, handmadePdf([stream]));
      expect(await parseOutcome(parseFileIsolated(path, { ...opts, maxExpandedBytes: 16 * MiB })), label).toBe('ZIP_BOMB');
    }
  });

  it('a parse that needs more memory than the worker may have is TOO_LARGE, and the next file is read by a new worker', async () => {
    const path = join(dir, 'big.json');
    await writeFile(path, JSON.stringify(Array.from({ length: 300_000 }, (_, i) => ({ id: i, name: `row ${i}`, tags: ['a', 'b'] }))));
    expect(await parseOutcome(parseFileIsolated(path, { ...opts, memoryMb: 32 }))).toBe('TOO_LARGE');
    await writeFile(join(dir, 'after.txt'), 'the next file after the worker died');
    expect((await parseFileIsolated(join(dir, 'after.txt'), opts)).sections[0]?.text).toContain('worker died');
  });

  it('a parse past its deadline is stopped with TIMEOUT even inside a synchronous third-party step', async () => {
    // 300 paragraphs of 1,500 emphasis marks each: within every limit (the whole file's inline
    // work too: 300 × 1,500² < MAX_MARKDOWN_INLINE_WORK), and seconds of marked.
    const path = join(dir, 'slow.md');
    await writeFile(path, `${'*a* '.repeat(750)}\n\n`.repeat(300));
    const started = performance.now();
    expect(await parseOutcome(parseFileIsolated(path, { ...opts, timeoutMs: 500 }))).toBe('TIMEOUT');
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('ingest of the 9 MB markdown nested 3,000 deep fails that file as TOO_DEEP and goes on with the rest', async () => {
    const vault = await freshVault();
    const tenant = vault.openSession().open(vault.createTenant('Acme').id);
    const folder = await mkdtemp(join(dir, 'ingest-'));
    await HOSTILE_FILES.find((f) => f.name === 'md-list-3000-deep.md')!.write(join(folder, 'deep.md'));
    await writeFile(join(folder, 'plain.txt'), 'The retainer is forty thousand euros.');
    const summary = await ingestPaths(tenant, [folder], { embedder: new HashedEmbedder() });
    expect(summary).toMatchObject({ added: 1, failed: 1 });
    expect(summary.files.find((f) => f.status === 'failed')).toMatchObject({ code: 'TOO_DEEP' });
    vault.lock();
  });
});
