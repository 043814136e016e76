// Document frequencies of the stems in a tenant's index, kept beside it so that a lookup costs
// one B-tree probe whatever the word. FTS5 can only count a term's documents by walking its whole
// posting list (about a millisecond for a common word at 100,000 chunks), and both query pruning
// and expansion need dozens of counts per search.
import { porterStem } from '../text/porter.js';
import { indexWords } from '../text/words.js';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';

const HAS_LETTER = /\p{L}/u;
/** The row that counts chunks: no stem is empty. */
const TOTAL = '';

/** Content words of a text as the index sees them: folded, no stop words, no pure numbers. */
export function contentWords(text: string): string[] {
  return indexWords(text).filter((word) => HAS_LETTER.test(word));
}

function chunkStems(text: string): Set<string> {
  return new Set(contentWords(text).map(porterStem));
}

/** Counts the chunks' stems in (inside the caller's transaction). */
export function addTermStats(tenant: TenantHandle, texts: readonly string[]): void {
  adjust(tenant, texts, +1);
}

/** Counts the chunks' stems out (inside the caller's transaction). */
export function removeTermStats(tenant: TenantHandle, texts: readonly string[]): void {
  adjust(tenant, texts, -1);
  tenant.db.prepare('DELETE FROM term_stats WHERE df <= 0').run();
}

function adjust(tenant: TenantHandle, texts: readonly string[], by: 1 | -1): void {
  if (texts.length === 0) return;
  tenant.cache.get(STATS_WRITES, () => ({ count: 0 })).count += 1;
  const counts = new Map<string, number>([[TOTAL, texts.length]]);
  for (const text of texts) for (const stem of chunkStems(text)) counts.set(stem, (counts.get(stem) ?? 0) + 1);
  const upsert = tenant.db.prepare('INSERT INTO term_stats (term, df) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET df = df + excluded.df');
  for (const [term, n] of counts) upsert.run(term, by * n);
}

export interface TermStats {
  /** Chunks in the index. */
  total: number;
  df(stem: string): number;
}

/** Counts this process's term_stats writes per open tenant, so the kept counts know they are stale. */
const STATS_WRITES = cacheKey<{ count: number }>('term stats write count');

/**
 * Per open tenant, the counts already read, with when: SQLite's data_version (moved by another
 * connection's commit) and statsWrites (moved by this connection's writes, before they commit).
 * A search's feedback asks for about 500 stems, mostly the same common ones from one search to
 * the next; read again each time, they cost about 0.9 ms at 100,000 chunks. In the tenant's cache
 * (dropped when it closes), and never filled inside a transaction, whose counts may yet roll back.
 */
interface KeptCounts {
  readonly dataVersion: number;
  readonly writes: number;
  readonly df: Map<string, number>;
}

const KEPT_COUNTS = cacheKey<KeptCounts>('document frequencies');
/** Beyond this many stems the kept counts start over (a few MB at most). */
const KEPT_MAX = 200_000;

/**
 * Document frequencies for some stems (and the chunk count): the ones not kept yet in one
 * statement (one driver call per stem cost 1.4 ms where this costs a fraction).
 */
export function termStats(tenant: TenantHandle, stems: Iterable<string>): TermStats {
  const db = tenant.db;
  const wanted = new Set([TOTAL, ...stems]);
  let kept: KeptCounts | undefined;
  if (!db.inTransaction) {
    const dataVersion = Number(db.pragma('data_version', { simple: true }));
    const writes = tenant.cache.get(STATS_WRITES)?.count ?? 0;
    kept = tenant.cache.get(KEPT_COUNTS);
    if (!kept || kept.dataVersion !== dataVersion || kept.writes !== writes || kept.df.size > KEPT_MAX) {
      tenant.cache.set(KEPT_COUNTS, (kept = { dataVersion, writes, df: new Map() }));
    }
  }
  const df = kept?.df ?? new Map<string, number>();
  const missing = [...wanted].filter((stem) => !df.has(stem));
  if (missing.length > 0) {
    const rows = db.prepare('SELECT term, df FROM term_stats WHERE term IN (SELECT value FROM json_each(?))').raw().all(JSON.stringify(missing)) as [
      string,
      number,
    ][];
    for (const stem of missing) df.set(stem, 0);
    for (const [term, n] of rows) df.set(term, Number(n));
  }
  const total = df.get(TOTAL) ?? 0;
  return { total, df: (stem) => (stem === TOTAL ? 0 : (df.get(stem) ?? 0)) };
}

const STEMS = cacheKey<Map<string, string>>('stems');

/**
 * Per open tenant, the Porter stems of the words its searches have met (bounded, see
 * porterStemCached): feedback stems about 3,000 words a search, mostly the same from one search to
 * the next. In the tenant's cache, dropped when it closes; nothing is shared between tenants.
 */
export function stemCacheOf(tenant: TenantHandle): Map<string, string> {
  return tenant.cache.get(STEMS, () => new Map());
}

/** Robertson-Sparck Jones IDF, as BM25 uses it; negative for words in more than half the chunks. */
export function idf(stats: TermStats, stem: string): number {
  const n = stats.df(stem);
  return Math.log((stats.total - n + 0.5) / (n + 0.5));
}
