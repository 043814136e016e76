// Search by example: a pasted passage (up to 20,000 characters) searches by its most telling
// terms and embeds a bounded part (retrieval/by-example.ts).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { MAX_QUERY_TERMS } from '../../../src-main/index/fts.js';
import { boundedPrefix, EMBED_MAX_CHARS, MAX_QUERY_CHARS, searchableQuery, tellingTerms } from '../../../src-main/retrieval/by-example.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import { calls } from '../../../src-shared/contract.js';
import { closeTenants, tenantWithChunks } from '../../helpers/retrieval.js';

afterEach(closeTenants);
afterAll(stopBackgroundReader);

const embedder = new HashedEmbedder({ dimension: 64 });
const FILLER = 'the report notes that the committee met and discussed several general matters of the day';
const texts = Array.from({ length: 150 }, (_, i) => `${FILLER} item ${i} about harbour ${i % 9} and tide ${i % 4}`);
/** A long document, about one rare thing, among the common ones. */
const TARGET =
  'Zeppelin mooring masts at the airfield: the zeppelin crew checked the mast winch, the helium valves and the ' +
  'gondola ballast before the zeppelin left; the mast winch needs grease, the helium valves a new seal. ' +
  Array.from({ length: 60 }, (_, i) => `word${i}x`).join(' ');

describe('search by example', () => {
  it('takes a query of up to 20,000 characters in search and the contract, and refuses a longer one by name', async () => {
    const { tenant } = await tenantWithChunks(embedder, [...texts, TARGET]);
    const passage = `${TARGET} ${FILLER} `.repeat(80).slice(0, MAX_QUERY_CHARS);
    expect(passage.length).toBe(20_000);
    const result = await searchKnowledge(tenant, passage, { k: 5, embedder });
    expect(result.mode).toBe('hybrid');
    expect(result.passages[0]?.text).toBe(TARGET); // the document it was pasted from comes first
    await expect(searchKnowledge(tenant, `${passage}x`, { embedder })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/20,000 characters/),
    });
    expect(calls['knowledge.search'].input.safeParse({ query: passage }).success).toBe(true);
    expect(calls['knowledge.search'].input.safeParse({ query: `${passage}x` }).success).toBe(false);
  });

  it('keeps the most telling terms of a long query (frequent in it, rare in the tenant) and embeds a bounded prefix', async () => {
    const { tenant } = await tenantWithChunks(embedder, [...texts, TARGET]);
    const long = `${TARGET} ${texts.join(' ')}`;
    const q = searchableQuery(tenant, long);
    const kept = q.text.split(' ');
    expect(kept.length).toBeLessThanOrEqual(MAX_QUERY_TERMS);
    // Three times each in the query (masts, mast, mast: one stem, its first form), in one chunk of 151.
    expect(kept.slice(0, 2).sort()).toEqual(['masts', 'zeppelin']);
    expect(kept).toEqual(expect.arrayContaining(['winch', 'helium']));
    expect(kept).not.toContain('committee'); // in every chunk: no weight
    expect(q.embed.length).toBeLessThanOrEqual(EMBED_MAX_CHARS);
    expect(long.startsWith(q.embed)).toBe(true);
    expect(tellingTerms(tenant, ['unknownword', 'zeppelin'], 5)).toEqual(['zeppelin']);
  });

  it('leaves a short query as it is', async () => {
    const { tenant } = await tenantWithChunks(embedder, texts);
    const query = 'harbour 3 tide report';
    expect(searchableQuery(tenant, query)).toEqual({ text: query, embed: query });
    expect(boundedPrefix('alpha beta gamma', 11)).toBe('alpha beta');
  });
});
