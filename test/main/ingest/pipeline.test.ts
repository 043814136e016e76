import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countDocuments, deleteDocument, listDocuments } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { ingestPaths, type IngestEvent } from '../../../src-main/ingest/pipeline.js';
import { porterStem } from '../../../src-main/text/porter.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { contentWords } from '../../../src-main/index/term-stats.js';
import { activeVectorIndex, vectorTable } from '../../../src-main/index/vectors.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { makeDocx, makePdf, writeZip, zeros } from '../../helpers/documents.js';
import { freshVault, tempDir } from '../../helpers/vault.js';

const embedder = new HashedEmbedder();

async function openFreshTenant(): Promise<TenantHandle> {
  const vault = await freshVault();
  const { id } = vault.createTenant('Acme');
  return vault.openSession().open(id);
}

/** Rows in every index agree: no chunk without its document, vector and full-text row. */
function expectConsistent(t: TenantHandle): void {
  const chunks = Number(t.db.prepare('SELECT count(*) FROM chunks').pluck().get());
  const declared = Number(t.db.prepare('SELECT coalesce(sum(chunk_count), 0) FROM documents').pluck().get());
  expect(chunks).toBe(declared);
  const index = activeVectorIndex(t);
  if (index)
    expect(
      Number(
        t.db
          .prepare(`SELECT count(*) FROM ${vectorTable(index)}`)
          .pluck()
          .get(),
      ),
    ).toBe(chunks);
  expect(Number(t.db.prepare('SELECT count(*) FROM chunks_fts').pluck().get())).toBe(chunks);
  expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
  // Document frequencies agree with a recount from the chunks themselves.
  const recount = new Map<string, number>(chunks > 0 ? [['', chunks]] : []);
  for (const text of t.db.prepare('SELECT text FROM chunks').pluck().all() as string[]) {
    for (const stem of new Set(contentWords(text).map(porterStem))) recount.set(stem, (recount.get(stem) ?? 0) + 1);
  }
  const stored = new Map((t.db.prepare('SELECT term, df FROM term_stats').all() as { term: string; df: number }[]).map((r) => [r.term, r.df]));
  expect(stored).toEqual(recount);
}

describe('ingestion', () => {
  it('ingests a folder of every supported type with provenance, then search finds each', async () => {
    const t = await openFreshTenant();
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'nested', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'The quarterly retainer for Zanzibar Logistics is forty thousand euros.');
    fs.writeFileSync(path.join(dir, 'guide.md'), '# Onboarding\n\n## Laptops\n\nThe helpdesk issues a ThinkPad on the first morning.\n');
    fs.writeFileSync(
      path.join(dir, 'nested', 'page.html'),
      '<html><head><title>Brand voice</title><script>alert(1)</script></head><body><h1>Voice</h1><p>Warm, plain and never sarcastic.</p></body></html>',
    );
    fs.writeFileSync(path.join(dir, 'nested', 'deeper', 'contacts.csv'), 'name,role\nIngrid Solberg,procurement lead\n');
    fs.writeFileSync(path.join(dir, 'nested', 'deeper', 'config.json'), JSON.stringify({ billing: { cadence: 'monthly', currency: 'NOK' } }));
    fs.writeFileSync(path.join(dir, 'report.pdf'), await makePdf(['Cover page', 'Churn fell to four percent in the Oslo region.']));
    fs.writeFileSync(path.join(dir, 'handbook.docx'), await makeDocx());
    fs.writeFileSync(path.join(dir, 'ignored.png'), crypto.randomBytes(100));

    const events: IngestEvent[] = [];
    const summary = await ingestPaths(t, [dir], { embedder, onEvent: (e) => events.push(e) });
    expect(summary).toMatchObject({ added: 7, failed: 0, unchanged: 0, replaced: 0, cancelled: false });
    expect(events[0]).toMatchObject({ type: 'scanned', files: 7 });
    expect(events.filter((e) => e.type === 'file-done')).toHaveLength(7);
    expect(events.filter((e) => e.type === 'file-progress').length).toBeGreaterThanOrEqual(7);
    expectConsistent(t);

    const pdfHit = (await searchKnowledge(t, 'churn Oslo region', { k: 3 })).passages[0];
    expect(pdfHit).toMatchObject({ title: expect.any(String), page: 2, sourcePath: path.join(dir, 'report.pdf') });
    const mdHit = (await searchKnowledge(t, 'ThinkPad helpdesk', { k: 3 })).passages[0];
    expect(mdHit).toMatchObject({ headingPath: ['Onboarding', 'Laptops'] });
    expect(mdHit!.text).toContain('ThinkPad');
    const htmlHit = (await searchKnowledge(t, 'sarcastic', { k: 3 })).passages[0];
    expect(htmlHit!.text).toContain('never sarcastic');
    expect(htmlHit!.text).not.toContain('alert');
    expect((await searchKnowledge(t, 'Ingrid Solberg procurement', { k: 1 })).passages[0]!.sourcePath).toMatch(/contacts\.csv$/);
    expect((await searchKnowledge(t, 'billing currency NOK', { k: 1 })).passages[0]!.sourcePath).toMatch(/config\.json$/);
    expect((await searchKnowledge(t, 'salaries paid last working day', { k: 1 })).passages[0]!.sourcePath).toMatch(/handbook\.docx$/);
  });

  it('re-ingesting an unchanged file is a no-op; a changed file replaces its old chunks everywhere', async () => {
    const t = await openFreshTenant();
    const file = path.join(tempDir(), 'policy.md');
    fs.writeFileSync(file, '# Policy\n\nExpenses above nine hundred krone need the quetzalcoatl approval form.\n');
    expect((await ingestPaths(t, [file], { embedder })).added).toBe(1);
    const [before] = listDocuments(t);
    expect((await ingestPaths(t, [file], { embedder })).unchanged).toBe(1);
    expect(listDocuments(t)).toEqual([before]);

    fs.writeFileSync(file, '# Policy\n\nExpenses above nine hundred krone need the archaeopteryx approval form.\n');
    const again = await ingestPaths(t, [file], { embedder });
    expect(again.replaced).toBe(1);
    expect(countDocuments(t)).toEqual({ documents: 1, chunks: 1 });
    expect((await searchKnowledge(t, 'quetzalcoatl', { k: 5 })).passages.filter((p) => p.text.includes('quetzalcoatl'))).toEqual([]);
    expect((await searchKnowledge(t, 'archaeopteryx', { k: 5 })).passages[0]!.text).toContain('archaeopteryx');
    expectConsistent(t);
  });

  it('deleting a document removes its chunks, vectors and full-text rows in one go', async () => {
    const t = await openFreshTenant();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha document about pangolins. '.repeat(400));
    fs.writeFileSync(path.join(dir, 'b.txt'), 'beta document about narwhals. '.repeat(10));
    await ingestPaths(t, [dir], { embedder });
    const a = listDocuments(t).find((d) => d.sourcePath.endsWith('a.txt'))!;
    expect(a.chunkCount).toBeGreaterThan(1);
    deleteDocument(t, a.id);
    expect(countDocuments(t)).toEqual({ documents: 1, chunks: 1 });
    expect((await searchKnowledge(t, 'pangolins', { k: 5 })).passages.some((p) => p.text.includes('pangolins'))).toBe(false);
    expectConsistent(t);
    expect(() => deleteDocument(t, a.id)).toThrow(expect.objectContaining({ code: 'DOCUMENT_NOT_FOUND' }));
  });

  it('hostile and broken files are each reported with a reason while the rest of the batch goes in', async () => {
    const t = await openFreshTenant();
    const dir = tempDir();
    const w = (name: string, data: string | Uint8Array): void => fs.writeFileSync(path.join(dir, name), data);
    w('good-1.txt', 'A perfectly ordinary note about the Helsinki office move.');
    w('good-2.md', '# Fine\n\nAnother ordinary note.');
    const pdf = Buffer.from(await makePdf(['some text']));
    w('corrupt.pdf', Buffer.concat([pdf.subarray(0, 200), crypto.randomBytes(300)]));
    w('encrypted.pdf', await makePdf(['secret'], { userPassword: 'hunter2' }));
    w('random.docx', crypto.randomBytes(4096));
    await writeZip(path.join(dir, 'bomb.docx'), (zip) => zip.addReadStream(zeros(512 * 1024 * 1024), 'word/media/zeros.bin'));
    w('binary.txt', Buffer.concat([Buffer.from('MZ'), crypto.randomBytes(4000), Buffer.alloc(100)]));
    w('latin1.txt', Buffer.from(Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? 0xe9 : 0x61))));
    w('empty.txt', '');
    w('deep.json', '['.repeat(5000) + ']'.repeat(5000));
    fs.mkdirSync(path.join(dir, 'loop'));
    fs.symlinkSync(path.join(dir, 'loop'), path.join(dir, 'loop', 'again'));
    fs.symlinkSync(path.join(dir, 'self-link.txt'), path.join(dir, 'self-link.txt'));
    // 200 MB of text, written without holding it in memory.
    const big = fs.openSync(path.join(dir, 'huge.txt'), 'w');
    const block = Buffer.from('lorem ipsum dolor sit amet '.repeat(40_000));
    for (let written = 0; written < 200e6; written += block.length) fs.writeSync(big, block);
    fs.closeSync(big);

    const rssBefore = process.memoryUsage().rss;
    const summary = await ingestPaths(t, [dir], { embedder });
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    const failed = Object.fromEntries(summary.files.filter((f) => f.status === 'failed').map((f) => [path.basename(f.path), f.code]));
    expect(failed).toEqual({
      'corrupt.pdf': 'CORRUPT',
      'encrypted.pdf': 'ENCRYPTED',
      'random.docx': 'CORRUPT',
      'bomb.docx': 'ZIP_BOMB',
      'binary.txt': 'BINARY',
      'latin1.txt': 'INVALID_ENCODING',
      'empty.txt': 'EMPTY',
      'deep.json': 'TOO_DEEP',
      'huge.txt': 'TOO_LARGE',
      again: 'UNREADABLE',
      'self-link.txt': 'UNREADABLE',
    });
    for (const f of summary.files.filter((x) => x.status === 'failed')) expect(f.reason, f.path).toMatch(/\w{3,}/);
    expect(summary.added).toBe(2);
    expect(
      listDocuments(t)
        .map((d) => path.basename(d.sourcePath))
        .sort(),
    ).toEqual(['good-1.txt', 'good-2.md']);
    expectConsistent(t);
    expect(rssGrowth).toBeLessThan(300 * 1024 * 1024);
  });

  it('a cancel stops between documents and leaves only whole documents', async () => {
    const t = await openFreshTenant();
    const dir = tempDir();
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `doc-${String(i).padStart(2, '0')}.txt`), `document ${i} `.repeat(3000));
    const controller = new AbortController();
    const summary = await ingestPaths(t, [dir], {
      embedder,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'file-progress' && e.index === 3) controller.abort();
      },
    });
    expect(summary.cancelled).toBe(true);
    expect(summary.added).toBeGreaterThanOrEqual(3);
    expect(summary.added).toBeLessThan(20);
    expect(countDocuments(t).documents).toBe(summary.added);
    expectConsistent(t);
  });

  it('refuses to add vectors from another embedder to an index built by a different one', async () => {
    const t = await openFreshTenant();
    const file = path.join(tempDir(), 'x.txt');
    fs.writeFileSync(file, 'some text');
    await ingestPaths(t, [file], { embedder });
    const other = { id: 'other-embedder', dimension: 3, embed: async (xs: string[]) => xs.map(() => new Float32Array([1, 0, 0])) };
    await expect(ingestPaths(t, [file], { embedder: other })).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
  });
});
