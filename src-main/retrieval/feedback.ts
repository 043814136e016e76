// Pseudo-relevance feedback: the first full-text hits are taken as a description of what the
// user means, and both retrievers get a second, richer query from them. Query-side only (nothing
// about the documents changes), the same for every query, and it uses no statistics beyond the
// tenant's own index: document frequencies come from its term_stats table.
import { porterStemCached } from '../text/porter.js';
import type { TenantHandle } from '../vault/handle.js';
import { contentWords, idf as inverseDf, stemCacheOf, termStats } from '../index/term-stats.js';
import { int8Table, vectorTable, type VectorIndex } from '../index/vectors.js';
import { int8CopiesOf, int8Copy } from './int8-cache.js';

/**
 * Expansion words for a query (RM3-style): each content word of the feedback passages scores its
 * share of the passage (tf / length), discounted by the passage's rank, times its inverse
 * document frequency in the tenant's index. Words whose stem is already in the query are skipped.
 * Returns surface forms (the index stems them again to the same Porter stem), best first.
 */
export function expansionWords(tenant: TenantHandle, query: string, feedback: readonly string[], count: number, maxShare = 1): string[] {
  if (count <= 0 || feedback.length === 0) return [];
  // Words repeat across passages and searches: stem each once while the tenant is open.
  const stems = stemCacheOf(tenant);
  const stemOf = (word: string): string => porterStemCached(word, stems);
  const queryStems = new Set(contentWords(query).map(stemOf));
  const weight = new Map<string, number>();
  const surface = new Map<string, string>();
  feedback.forEach((text, rank) => {
    const words = contentWords(text);
    if (words.length === 0) return;
    const tf = new Map<string, number>();
    for (const word of words) {
      const stem = stemOf(word);
      if (queryStems.has(stem)) continue;
      tf.set(stem, (tf.get(stem) ?? 0) + 1);
      if (!surface.has(stem)) surface.set(stem, word);
    }
    for (const [stem, n] of tf) weight.set(stem, (weight.get(stem) ?? 0) + n / words.length / (rank + 1));
  });
  const stats = termStats(tenant, weight.keys());
  const scored: { stem: string; score: number }[] = [];
  for (const [stem, w] of weight) {
    const idf = inverseDf(stats, stem);
    if (idf > 0 && stats.df(stem) <= maxShare * stats.total) scored.push({ stem, score: w * idf });
  }
  scored.sort((a, b) => b.score - a.score || (a.stem < b.stem ? -1 : 1));
  return scored.slice(0, count).map((s) => surface.get(s.stem)!);
}

/** Rocchio: the query vector moved towards the centroid of the feedback vectors, L2-normalised. */
export function rocchio(query: Float32Array, feedback: readonly Float32Array[], beta: number): Float32Array {
  const out = Float32Array.from(query);
  const usable = feedback.filter((v) => v.length === query.length);
  if (usable.length === 0 || beta <= 0) return out;
  const scale = beta / usable.length;
  for (const v of usable) for (let i = 0; i < out.length; i++) out[i]! += scale * v[i]!;
  let norm = 0;
  for (let i = 0; i < out.length; i++) norm += out[i]! * out[i]!;
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < out.length; i++) out[i]! *= inv;
  }
  return out;
}

/** Stored vectors of some chunks, in the order asked (missing ones left out). */
export function chunkVectors(tenant: TenantHandle, index: VectorIndex, chunkIds: readonly number[]): Float32Array[] {
  const get = tenant.db.prepare(`SELECT embedding FROM ${vectorTable(index)} WHERE chunk_id = ?`);
  const out: Float32Array[] = [];
  for (const id of chunkIds) {
    const row = get.get(BigInt(id)) as { embedding: Buffer } | undefined;
    if (row === undefined) continue;
    const bytes = row.embedding;
    // Copy: the Buffer may share a pool, and Float32Array needs 4-byte alignment.
    out.push(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
  }
  return out;
}

/**
 * The feedback passages' vectors for Rocchio, from their int8 copies (in memory once loaded, see
 * int8-cache.ts, else their rows), each L2-normalised. The int8 rows are a quarter of the float
 * rows' size, so a search's ten random reads cost a quarter of the page misses; both sources hold
 * the same bytes, so the result does not depend on which one answered (`fromMemory: false` reads
 * the rows: the reference search). Missing ones are left out.
 */
export function feedbackVectors(tenant: TenantHandle, index: VectorIndex, chunkIds: readonly number[], opts: { fromMemory?: boolean } = {}): Float32Array[] {
  const copies = (opts.fromMemory ?? true) ? int8CopiesOf(tenant, index, 0, false) : null;
  const get = copies ? null : tenant.db.prepare(`SELECT vector FROM ${int8Table(index)} WHERE chunk_id = ?`).pluck();
  const out: Float32Array[] = [];
  for (const id of chunkIds) {
    let bytes: Int8Array | undefined;
    if (copies) bytes = int8Copy(copies, id);
    else {
      const row = get!.get(id) as Buffer | undefined;
      bytes = row && new Int8Array(row.buffer, row.byteOffset, row.byteLength);
    }
    if (!bytes || bytes.length !== index.dimension) continue;
    const v = Float32Array.from(bytes);
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    if (norm === 0) continue;
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
    out.push(v);
  }
  return out;
}

export function chunkTexts(tenant: TenantHandle, chunkIds: readonly number[]): string[] {
  const get = tenant.db.prepare('SELECT text FROM chunks WHERE id = ?');
  return chunkIds.flatMap((id) => {
    const row = get.get(id) as { text: string } | undefined;
    return row === undefined ? [] : [row.text];
  });
}
