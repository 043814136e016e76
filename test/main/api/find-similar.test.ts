// "Find similar" as the console and the CLI ask for it: a passage's own text as the query, its
// document left out (knowledge.search's excludeDocumentIds), ranked by the real hybrid search.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { invokeCall } from '../../../src-main/api/dispatch.js';
import { highlightRanges, queryTerms, searchForView } from '../../../src-main/api/search-view.js';
import { searchableQuery } from '../../../src-main/retrieval/by-example.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { listDocuments } from '../../../src-main/ingest/documents.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { searchKnowledge, storedPassages } from '../../../src-main/retrieval/knowledge.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { SIMILAR_CORPUS } from '../../helpers/similar-corpus.js';
import { freshVault, TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

const embedder = new HashedEmbedder();

async function library(): Promise<{ t: TenantHandle; docId: (file: string) => number; chunks: (file: string) => number[] }> {
  const vault = await freshVault();
  const t = vault.openSession().open(vault.createTenant('Apiary').id);
  const dir = tempDir();
  for (const [name, text] of Object.entries(SIMILAR_CORPUS)) fs.writeFileSync(path.join(dir, name), text);
  await ingestPaths(t, [dir], { embedder });
  const docs = listDocuments(t);
  const docId = (file: string): number => docs.find((d) => d.sourcePath.endsWith(file))!.id;
  const chunks = (file: string): number[] => t.db.prepare('SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal').pluck().all(docId(file)) as number[];
  return { t, docId, chunks };
}

const fileOf = (p: { sourcePath: string }): string => path.basename(p.sourcePath);

describe('find similar: a passage as the query, its own document left out', () => {
  it('ranks the other document on the same subject first, and none of the passage’s own document', async () => {
    const { t, docId, chunks } = await library();
    const [opening] = chunks('hive-inspection.md');
    const passage = storedPassages(t, [opening!]).get(opening!)!;
    // Without the exclusion the passage finds itself first: that is what a user does not need.
    const plain = await searchKnowledge(t, passage.text, { k: 10, embedder });
    expect(plain.passages[0]!.chunkId).toBe(opening);
    const similar = await searchKnowledge(t, passage.text, { k: 10, embedder, excludeDocumentIds: [docId('hive-inspection.md')] });
    expect(similar.passages.some((p) => p.documentId === docId('hive-inspection.md'))).toBe(false);
    expect(fileOf(similar.passages[0]!)).toBe('swarm-control.md');
    // Both passages of the other bee document rank above every passage on tacking or tax (the
    // harbour passage shares words such as "slowly" and "check", so it may sit between them).
    const files = similar.passages.map(fileOf);
    expect(files.filter((f) => f === 'swarm-control.md')).toHaveLength(2);
    const firstOff = Math.min(files.indexOf('tacking.md'), files.indexOf('vat-invoices.md'));
    expect(files.lastIndexOf('swarm-control.md')).toBeLessThan(firstOff);
  });

  it('leaves the documents out before the cut, so k passages still come back', async () => {
    const { t, docId, chunks } = await library();
    const text = storedPassages(t, chunks('hive-inspection.md')).get(chunks('hive-inspection.md')[0]!)!.text;
    const excluded = [docId('hive-inspection.md'), docId('swarm-control.md')];
    const r = await searchForView(t, text, { k: 3, excludeDocumentIds: excluded });
    expect(r.passages).toHaveLength(3);
    expect(r.passages.filter((p) => excluded.includes(p.documentId))).toEqual([]);
    // With filters too (the filtered path ranks wider, then narrows).
    const md = await searchForView(t, text, { k: 3, excludeDocumentIds: excluded, filters: { formats: ['md'], tags: [], from: null, to: null } });
    expect(md.passages.map((p) => p.chunkId)).toEqual(r.passages.map((p) => p.chunkId));
    // An id that is no document leaves nothing out.
    expect((await searchForView(t, text, { k: 3, excludeDocumentIds: [987_654] })).passages[0]!.documentId).toBe(docId('hive-inspection.md'));
  });

  it('marks the telling words of a long query, not its every word', async () => {
    const { t, chunks } = await library();
    const ids = [...chunks('hive-inspection.md'), ...chunks('mooring.md')];
    const stored = storedPassages(t, ids);
    // More distinct words than a search uses (64): searched, and marked, by its most telling ones.
    const long = ids.map((id) => stored.get(id)!.text).join('\n\n');
    expect(queryTerms(long).size).toBeGreaterThan(64);
    const telling = queryTerms(searchableQuery(t, long).text);
    expect(telling.size).toBeLessThan(queryTerms(long).size);
    const r = await searchForView(t, long, { k: 10 });
    // The search says which terms it used, and those are what is marked.
    expect(r.searchedAs).toBe(searchableQuery(t, long).text);
    expect(r.passages.length).toBeGreaterThan(0);
    let everyWord = 0;
    for (const hit of r.passages) {
      expect(hit.highlights).toEqual(highlightRanges(hit.text, telling));
      everyWord += highlightRanges(hit.text, queryTerms(long)).length - hit.highlights.length;
    }
    expect(everyWord).toBeGreaterThan(0);
  });

  it('refuses a malformed exclusion with INPUT_INVALID naming it, at the contract and in the retrieval layer', async () => {
    const { t } = await library();
    await expect(searchKnowledge(t, 'bees', { excludeDocumentIds: [0] })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(searchKnowledge(t, 'bees', { excludeDocumentIds: Array.from({ length: 101 }, (_, i) => i + 1) })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('at most 100 documents'),
    });
    const s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
    try {
      expect((await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE })).ok).toBe(true);
      for (const bad of [[-1], ['3'], [1.5], 7, Array.from({ length: 101 }, (_, i) => i + 1)]) {
        const r = await invokeCall(s, 'knowledge.search', { query: 'bees', excludeDocumentIds: bad });
        expect(r).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID', message: expect.stringContaining('excludeDocumentIds') } });
      }
    } finally {
      s.lock();
    }
  });
});
