import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteDocument } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { FTS_TOKENIZE, ftsIndexText, ftsQueryTerms, toFtsMatch } from '../../../src-main/index/fts.js';
import { bm25TopK } from '../../../src-main/retrieval/search.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { closeTenants, countRows, HOSTILE_QUERIES, tenantWithChunks, vectorRows, type TenantWithChunks } from '../../helpers/retrieval.js';

const embedder = new HashedEmbedder({ dimension: 64 });

// Five one-chunk documents; `docs` answers with their 1-based positions here.
const TEXTS = [
  'Alpha beta gamma: supersonic flow over a wing.',
  'Café au lait and crème brûlée',
  '東京都に住んでいます。大阪にも行きました。',
  'The rocket NEAR the pad was NOT ready AND waiting.',
  'Oscillating wings and their flutter boundaries',
];

let stored: TenantWithChunks;
let tenant: TenantHandle;

beforeEach(async () => {
  stored = await tenantWithChunks(embedder, TEXTS);
  tenant = stored.tenant;
});
afterEach(closeTenants);

const docs = (query: string): number[] => bm25TopK(tenant, query, 10).map((h) => stored.chunkIds.indexOf(h.chunkId) + 1);

describe('toFtsMatch', () => {
  it('quotes every term and joins them with OR', () => {
    expect(toFtsMatch('Supersonic flow, over wings!')).toBe('"supersonic" OR "flow" OR "wings"');
  });

  it('keeps stop words only when nothing else is left', () => {
    expect(toFtsMatch('what is the')).toBe('"what" OR "is" OR "the"');
    expect(toFtsMatch('what is lift')).toBe('"lift"');
  });

  it('turns unspaced scripts into two-character phrases', () => {
    expect(ftsQueryTerms('東京都')).toEqual(['"東 京"', '"京 都"']);
    expect(ftsQueryTerms('東')).toEqual(['"東"']);
  });

  it('returns null for text with nothing to search', () => {
    for (const q of ['', ' ', '"', '*', '()', '?!', '\u0000', '🙂']) expect(toFtsMatch(q)).toBeNull();
  });

  it('never lets user text act as FTS5 syntax: every hostile string runs', () => {
    for (const q of HOSTILE_QUERIES) {
      const match = toFtsMatch(q);
      if (match !== null) {
        expect(match).toMatch(/^"[^"]+"( OR "[^"]+")*$/);
        expect(() => tenant.db.prepare('SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?').get(match)).not.toThrow();
      }
      expect(() => bm25TopK(tenant, q, 5)).not.toThrow();
    }
  });

  it('reads operators as words: NOT, AND, NEAR find the passage that contains them', () => {
    expect(docs('rocket NOT ready')).toEqual([4]);
    expect(docs('NEAR(rocket pad)')).toEqual([4]);
    expect(docs('text:alpha')).toEqual([1]);
    expect(docs('alp*')).toEqual([]); // no prefix queries: "alp" is a word of its own
  });
});

describe('the chunks_fts index', () => {
  it('is created by the tenant migration with the tokenizer FTS_TOKENIZE describes', () => {
    const sql = tenant.db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'`).pluck().get() as string | undefined;
    expect(sql).toBeDefined();
    const tokenize = /tokenize\s*=\s*(["'])(.*)\1\s*\)\s*$/su.exec(sql!)?.[2];
    expect(tokenize).toBe(FTS_TOKENIZE);
  });

  it('matches across accents and case both ways', () => {
    expect(docs('cafe')).toEqual([2]);
    expect(docs('CRÈME BRULEE')).toEqual([2]);
  });

  it('stems English words', () => {
    expect(docs('oscillation wing')).toContain(5);
    expect(docs('oscillation wing')[0]).toBe(5);
  });

  it('finds CJK words inside unspaced text', () => {
    expect(docs('東京')).toEqual([3]);
    expect(docs('大阪')).toEqual([3]);
    expect(docs('京都')).toEqual([3]); // 東京都 contains 京都 as characters: a bigram index matches it
    expect(docs('北京')).toEqual([]);
  });

  it('indexes CJK per character', () => {
    expect(ftsIndexText('Tokyo東京')).toBe('tokyo 東 京');
  });

  it('deleting a document removes its FTS rows, its vectors and, after optimize, its terms', () => {
    // The vocabulary holds Porter stems: "supersonic" is indexed as "superson".
    const vocab = (): number => countRows(tenant, `SELECT term FROM chunks_fts_vocab WHERE term = 'superson'`);
    expect(docs('supersonic')).toEqual([1]);
    expect(vocab()).toBe(1); // so the check below can fail
    const before = vectorRows(tenant, stored.index);
    expect(deleteDocument(tenant, stored.documentIds[0]!).chunkCount).toBe(1);
    expect(docs('supersonic')).toEqual([]);
    expect(docs('cafe')).toEqual([2]); // the others stay
    expect(vectorRows(tenant, stored.index)).toBe(before - 1);
    expect(vocab()).toBe(0);
  });

  it('refuses to edit a chunk in place (the index could not follow)', () => {
    expect(() => tenant.db.prepare(`UPDATE chunks SET text = 'x' WHERE document_id = ?`).run(stored.documentIds[0])).toThrow(/immutable/);
    expect(docs('supersonic')).toEqual([1]);
  });
});
