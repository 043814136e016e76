import { ENGLISH_STOPWORDS } from '../text/stopwords.js';
import { foldText, textRuns } from '../text/fold.js';
import type { TenantHandle } from '../vault/handle.js';

/**
 * Tokenizer: Porter stemming over unicode61, accents removed, and combining marks (M*) kept as
 * token characters so Devanagari, Thai or Arabic words are not cut at every vowel sign.
 * unicode61 alone would index a run of CJK text as one giant token; instead the text is folded
 * and unspaced scripts are split into single characters before indexing (`ftsIndexText`), and a
 * CJK query becomes adjacent-character phrases (a bigram match), as Lucene's CJK analysers do.
 * The trigram tokenizer would handle CJK too, but loses stemming, cannot match 1-2 letter terms
 * and roughly triples the index.
 *
 * Contentless (`content=''`) with `contentless_delete=1`: the text lives once, in `chunks`, and
 * the index holds the folded, re-spaced form that only ingest can compute (no SQL trigger could),
 * so an external-content table would be out of step with its content. Deleting by rowid works, so
 * a trigger on `chunks` removes the FTS row. Deleted entries stay in old b-tree segments until
 * they are merged: run `optimizeFts` after deleting documents so their terms are really gone.
 */
export const FTS_TOKENIZE = `porter unicode61 remove_diacritics 2 categories 'L* N* Co M*'`;
// The table itself is created by tenant migration 0002, which spells this tokenizer out (a
// migration never changes once released); test/main/retrieval/fts.test.ts checks they agree.

/** The form of a chunk's text that goes into the index: folded, unspaced scripts per character. */
export function ftsIndexText(text: string): string {
  return textRuns(foldText(text))
    .map((run) => (run.kind === 'unspaced' ? Array.from(run.text).join(' ') : run.text))
    .join(' ');
}

/** A writer for FTS rows (prepare once per batch, call once per chunk). */
export function prepareFtsInsert(tenant: TenantHandle): (chunkId: number, text: string) => void {
  const insert = tenant.db.prepare('INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)');
  return (chunkId, text) => {
    insert.run(chunkId, ftsIndexText(text));
  };
}

/** Merges all segments, dropping the entries of deleted rows for good. */
export function optimizeFts(tenant: TenantHandle): void {
  tenant.db.prepare(`INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')`).run();
}

/** Upper bound on OR-ed terms: a pasted page must not become a thousand-term query. */
export const MAX_QUERY_TERMS = 64;

/** Quotes a term as an FTS5 string: inside double quotes only `"` is special, and it is doubled. */
export function quoteFtsTerm(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/**
 * The searchable terms of free text, each already quoted as an FTS5 string made only of token
 * characters: words, and for unspaced scripts overlapping two-character phrases. English stop
 * words are dropped unless nothing else is left. Deduplicated, at most MAX_QUERY_TERMS.
 */
export function ftsQueryTerms(query: string): string[] {
  return queryWords(query).map((w) => quoteFtsTerm(w.text));
}

/** The words of a query as the index sees them; `word` marks a stemmable word (not a CJK pair). */
export function queryWords(query: string): { text: string; word: boolean }[] {
  const content: { text: string; word: boolean }[] = [];
  const stop: { text: string; word: boolean }[] = [];
  for (const run of textRuns(foldText(query))) {
    if (run.kind === 'unspaced') {
      const chars = Array.from(run.text);
      if (chars.length === 1) content.push({ text: chars[0]!, word: false });
      for (let i = 0; i + 1 < chars.length; i++) content.push({ text: `${chars[i]!} ${chars[i + 1]!}`, word: false });
    } else if (ENGLISH_STOPWORDS.has(run.text)) {
      stop.push({ text: run.text, word: false });
    } else {
      content.push({ text: run.text, word: true });
    }
  }
  const seen = new Set<string>();
  return (content.length > 0 ? content : stop).filter((w) => !seen.has(w.text) && seen.add(w.text)).slice(0, MAX_QUERY_TERMS);
}

/**
 * Turns free text into an FTS5 MATCH expression that cannot be read as FTS5 syntax: every term
 * is a double-quoted string (so AND, NEAR(, *, ^, column: are plain text), joined by OR so that
 * BM25 ranks passages matching more and rarer terms first. Returns null when the text has no
 * letter or digit at all: there is nothing to search for.
 */
export function toFtsMatch(query: string): string | null {
  const terms = ftsQueryTerms(query);
  return terms.length === 0 ? null : terms.join(' OR ');
}
