import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { documentFacets, documentSegments, filterDocuments, retagDocument } from '../../../src-main/ingest/document-filters.js';
import { listDocuments } from '../../../src-main/ingest/documents.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { highlightRanges, queryTerms, searchForView } from '../../../src-main/api/search-view.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { freshVault, tempDir } from '../../helpers/vault.js';

const embedder = new HashedEmbedder();

async function tenantWith(files: Record<string, string>): Promise<TenantHandle> {
  const vault = await freshVault();
  const t = vault.openSession().open(vault.createTenant('Acme').id);
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  await ingestPaths(t, [dir], { embedder });
  return t;
}

describe('search as the console shows it', () => {
  it('marks the words of each passage that match the query, by the index’s folding and stems', () => {
    const terms = queryTerms('Renewing the Café contracts');
    const text = 'The contract renews at the café; renewal is automatic. Contracts!';
    const words = highlightRanges(text, terms).map(([s, e]) => text.slice(s, e));
    expect(words).toEqual(['contract', 'renews', 'café', 'renewal', 'Contracts']);
    // Stop words are not marked, unless the query has nothing else.
    expect(highlightRanges('the end', queryTerms('the'))).toEqual([[0, 3]]);
  });

  it('narrows results by kind, tag and date added, and says which document kind each passage is', async () => {
    const t = await tenantWith({
      'a.md': '# Alpha\n\nInvoice schedule for the retainer.',
      'b.txt': 'Invoice schedule for the launch.',
      'c.csv': 'item,note\ninvoice,schedule',
    });
    const docs = listDocuments(t);
    const md = docs.find((d) => d.format === 'md')!;
    const txt = docs.find((d) => d.format === 'txt')!;
    retagDocument(t, md.id, ['Finance', 'q3']);
    retagDocument(t, txt.id, ['finance']);
    const all = await searchForView(t, 'invoice schedule', { k: 10 });
    expect(new Set(all.passages.map((p) => p.format))).toEqual(new Set(['md', 'txt', 'csv']));
    expect(all.passages.every((p) => p.highlights.length > 0)).toBe(true);
    const none = { formats: [], tags: [], from: null, to: null };
    const byKind = await searchForView(t, 'invoice schedule', { k: 10, filters: { ...none, formats: ['txt'] } });
    expect(byKind.passages.map((p) => p.documentId)).toEqual([txt.id]);
    const byTag = await searchForView(t, 'invoice schedule', { k: 10, filters: { ...none, tags: ['FINANCE'] } });
    expect(new Set(byTag.passages.map((p) => p.documentId))).toEqual(new Set([md.id, txt.id]));
    const bothTags = await searchForView(t, 'invoice schedule', { k: 10, filters: { ...none, tags: ['finance', 'Q3'] } });
    expect(bothTags.passages.map((p) => p.documentId)).toEqual([md.id]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await searchForView(t, 'invoice', { k: 10, filters: { ...none, from: today, to: today } })).passages).toHaveLength(3);
    expect((await searchForView(t, 'invoice', { k: 10, filters: { ...none, to: '2000-01-01' } })).passages).toHaveLength(0);
    expect(filterDocuments(t, { tags: ['finance'] }, 0, 10).total).toBe(2);
    expect(filterDocuments(t, { tags: ['finance'], formats: ['md'] }, 0, 10).items.map((d) => d.id)).toEqual([md.id]);
    expect(documentFacets(t)).toEqual({
      tags: [
        { name: 'Finance', count: 2 },
        { name: 'q3', count: 1 },
      ],
      formats: [
        { name: 'csv', count: 1 },
        { name: 'md', count: 1 },
        { name: 'txt', count: 1 },
      ],
    });
  });

  it('tags are trimmed, de-duplicated case-insensitively, and refuse control or direction characters', async () => {
    const t = await tenantWith({ 'a.txt': 'hello there' });
    const [doc] = listDocuments(t);
    expect(retagDocument(t, doc!.id, [' Legal ', 'legal', 'Q3']).tags).toEqual(['Legal', 'Q3']);
    expect(() => retagDocument(t, doc!.id, ['evil\u202egnp'])).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() =>
      retagDocument(
        t,
        doc!.id,
        Array.from({ length: 33 }, (_, i) => `t${i}`),
      ),
    ).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => retagDocument(t, 999, ['x'])).toThrow(expect.objectContaining({ code: 'DOCUMENT_NOT_FOUND' }));
  });

  it('opens a whole document from its overlapping passages, each word once, in order', async () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const t = await tenantWith({ 'long.txt': words });
    const [doc] = listDocuments(t);
    const view = documentSegments(t, doc!.id);
    expect(view.segments.length).toBeGreaterThan(3);
    expect(view.segments.map((s) => s.text).join('')).toBe(words);
    expect(view.truncated).toBe(false);
  });
});
