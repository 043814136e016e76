// The term index: per-stem postings (chunk id, term frequency, chunk length) kept beside FTS5 in
// the tenant's file, so that a BM25 top-k reads only the query's postings and scores them in a
// tight loop.
//
// Why: FTS5's bm25() is an SQL function called once per matching row, with the row's position
// lists walked to count the term; at 100,000 chunks a median query matches 20,000 rows and costs
// 11 to 13 ms whatever the LIMIT (0.45 µs a row plus an IDF pass), and five common words cost
// 117 ms. The same work over varint postings is about 10 ns a posting here, so the search no
// longer has to leave common query words out in large tenants (which cost quality, see
// SearchOptions.commonTermRatio). FTS5 stays the index for what postings without positions cannot
// answer: phrases (the character pairs of CJK queries) and queries made only of stop words.
//
// Layout (tenant migration 6):
// - term_postings(stem, count, data): at most a few segments per stem, each a run of postings
//   sorted by chunk id: varint(id delta), varint(tf), one byte of quantised chunk length.
// - term_index_pending(chunk_id): chunks stored but not yet in the postings. A trigger on chunks
//   adds them, in the transaction that stores the chunk, so no path that inserts chunks can
//   forget; `mergePendingTerms` moves them into the postings (an ingest run merges every
//   MERGE_EVERY_CHUNKS chunks and at its end). A search tokenises any still pending (a search
//   during a run in another process, or after a killed run, finds up to that many) itself, so
//   results never depend on whether the merge has run.
// - term_index_totals: chunks and tokens in the postings, for the average length.
//
// The tokens are term-stats.ts indexWords, Porter-stemmed, as on the query side (fts.ts
// queryWords): folded words of spaced scripts, stop words out, numbers in. The chunk length
// counts those tokens (stop words out, as in Lucene with a stop filter).
//
// This file writes the index; term-postings.ts holds the encoding, term-scorer.ts the BM25 search.
import type { TenantHandle } from '../vault/handle.js';
import { isStorageError, type Statement } from '../vault/sqlite.js';
import { chunkTerms, decodeSegment, emptyPostings, encodeSegment, mergePostings, quantizeLength, withoutIds, type Postings } from './term-postings.js';

/**
 * An ingest run merges after this many new chunks: a search meanwhile tokenises at most about
 * this many pending chunks (some 100 ms), and the run pays a merge of small segments each time.
 */
export const MERGE_EVERY_CHUNKS = 4096;
/** Pending chunks merged per pass: bounds the memory of one merge (postings of this many chunks). */
export const MERGE_BATCH = 20_000;
/** Postings a stem's small segments may reach before they are merged into its large one (as a share of it). */
const SMALL_SHARE = 0.25;

// ---- writing (inside the caller's transaction) ----------------------------------------------

interface SegmentRow {
  id: number;
  count: number;
  data: Buffer;
}

/** The term index's write statements on the open tenant's connection, prepared once per merge or removal. */
class PostingsWriter {
  readonly #segments: Statement;
  readonly #delete: Statement;
  readonly #insert: Statement;
  readonly #update: Statement;
  readonly #totals: Statement;

  constructor(tenant: TenantHandle) {
    const db = tenant.db;
    this.#segments = db.prepare('SELECT id, count, data FROM term_postings WHERE stem = ? ORDER BY count DESC, id');
    this.#delete = db.prepare('DELETE FROM term_postings WHERE id = ?');
    this.#insert = db.prepare('INSERT INTO term_postings (stem, count, data) VALUES (?, ?, ?)');
    this.#update = db.prepare('UPDATE term_postings SET count = ?, data = ? WHERE id = ?');
    this.#totals = db.prepare('UPDATE term_index_totals SET chunks = chunks + ?, tokens = tokens + ? WHERE id = 1');
  }

  segmentsOf(stem: string): SegmentRow[] {
    return this.#segments.all(stem) as SegmentRow[];
  }

  replaceSegments(stem: string, old: readonly SegmentRow[], merged: Postings): void {
    for (const s of old) this.#delete.run(s.id);
    if (merged.ids.length > 0) this.#insert.run(stem, merged.ids.length, encodeSegment(merged));
  }

  /** Rewrites one segment without some postings (none left: the row goes). */
  rewrite(segment: SegmentRow, kept: { data: Buffer; count: number }): void {
    if (kept.count === 0) this.#delete.run(segment.id);
    else this.#update.run(kept.count, kept.data, segment.id);
  }

  adjustTotals(chunks: number, tokens: number): void {
    this.#totals.run(chunks, tokens);
  }

  /**
   * Adds new postings to a stem: they merge with its small segments, and with its largest too once
   * the small ones reach SMALL_SHARE of it. So a stem has at most two segments after a merge, and a
   * small ingest rewrites small segments only.
   */
  addToStem(stem: string, fresh: Postings): void {
    const [largest, ...small] = this.segmentsOf(stem);
    if (!largest) return this.replaceSegments(stem, [], fresh);
    const smallCount = small.reduce((n, s) => n + s.count, fresh.ids.length);
    const merging = smallCount >= SMALL_SHARE * largest.count ? [largest, ...small] : small;
    this.replaceSegments(stem, merging, mergePostings([...merging.map((s) => decodeSegment(s.data)), fresh]));
  }
}

/**
 * Moves pending chunks into the postings, MERGE_BATCH at a time, each batch in its own
 * transaction (an interrupted merge leaves the rest pending, still searchable).
 */
function mergePending(tenant: TenantHandle): number {
  const db = tenant.db;
  const writer = new PostingsWriter(tenant);
  const next = db.prepare('SELECT c.id, c.text FROM term_index_pending p CROSS JOIN chunks c ON c.id = p.chunk_id ORDER BY p.chunk_id LIMIT ?');
  const done = db.prepare('DELETE FROM term_index_pending WHERE chunk_id = ?');
  let merged = 0;
  const cache = new Map<string, string>();
  for (;;) {
    const moved = db
      .transaction(() => {
        const rows = next.all(MERGE_BATCH) as { id: number; text: string }[];
        if (rows.length === 0) {
          // Pending rows of chunks that no longer exist (none should: a trigger removes them).
          db.prepare('DELETE FROM term_index_pending').run();
          return 0;
        }
        const byStem = new Map<string, Postings>();
        let tokens = 0;
        for (const { id, text } of rows) {
          const { length, tf } = chunkTerms(text, cache);
          tokens += length;
          const q = quantizeLength(length);
          for (const [stem, n] of tf) {
            let p = byStem.get(stem);
            if (!p) byStem.set(stem, (p = emptyPostings()));
            p.ids.push(id);
            p.tfs.push(n);
            p.lengths.push(q);
          }
        }
        for (const [stem, p] of byStem) writer.addToStem(stem, p);
        writer.adjustTotals(rows.length, tokens);
        for (const r of rows) done.run(r.id);
        return rows.length;
      })
      .immediate();
    if (moved === 0) return merged;
    merged += moved;
  }
}

/**
 * Moves the tenant's pending chunks into the postings, after a batch of writes. Like the code
 * pack, an optimisation only: if the storage refuses it (a full disk, a busy file) the chunks stay
 * pending, and searches read them from their text. The batch it follows has committed either way,
 * so its outcome must not turn into a failure. Returns how many chunks moved.
 */
export function mergePendingTerms(tenant: TenantHandle): number {
  try {
    return mergePending(tenant);
  } catch (err) {
    if (!tenant.isOpen || !isStorageError(err)) throw err;
    return 0;
  }
}

/**
 * Takes chunks about to be deleted out of the term index, inside the caller's transaction (before
 * the rows go): pending ones just leave the pending list (the trigger does that on delete), merged
 * ones leave the postings of each of their stems.
 */
export function removeChunkTerms(tenant: TenantHandle, chunks: readonly { id: number; text: string }[]): void {
  const db = tenant.db;
  const isPending = db.prepare('SELECT 1 FROM term_index_pending WHERE chunk_id = ?').pluck();
  const cache = new Map<string, string>();
  const byStem = new Map<string, Set<number>>();
  let count = 0;
  let tokens = 0;
  for (const { id, text } of chunks) {
    if (isPending.get(id) !== undefined) continue;
    const { length, tf } = chunkTerms(text, cache);
    count += 1;
    tokens += length;
    for (const stem of tf.keys()) {
      let ids = byStem.get(stem);
      if (!ids) byStem.set(stem, (ids = new Set()));
      ids.add(id);
    }
  }
  const writer = new PostingsWriter(tenant);
  for (const [stem, ids] of byStem) {
    for (const segment of writer.segmentsOf(stem)) {
      const kept = withoutIds(segment.data, ids);
      if (kept) writer.rewrite(segment, kept);
    }
  }
  if (count > 0) writer.adjustTotals(-count, -tokens);
}
