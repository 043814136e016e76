// The fusion weight of one tenant's short queries, calibrated on its own passages (a long query,
// a search by example, keeps SEARCH_DEFAULTS.longQueryVectorWeight: these synthetic queries are
// short and say nothing of how a whole passage is best matched). A fixed vector weight cannot
// suit every collection: where the vector list is weak (the offline embedder on a collection it
// suits badly) it pulls good BM25 hits down. So each tenant draws synthetic known-item queries from
// its own chunks (a few telling words of a passage; that passage is the one right answer), ranks
// them with the product's own hybridRank, scores the fused list under a small grid of vector
// weights, and keeps the weight that finds the source passages best, stored in its own file
// (tenant_meta), with the chunk count and vector index it was computed at. No relevance judgement
// is seen: only the tenant's text. Refreshed lazily: a search that finds none, or one computed
// at under half the chunks there are now (or another vector index), starts a calibration in the
// background and ranks with the last good value (or SEARCH_DEFAULTS); a calibration that fails
// leaves the default in place and never fails a search.
import { z } from 'zod';
import { mulberry32 } from '../../src-shared/seeded-random.js';
import type { Embedder } from '../embed/embedder.js';
import { activeVectorIndex } from '../index/vectors.js';
import { contentWords, idf, stemCacheOf, termStats } from '../index/term-stats.js';
import { porterStemCached } from '../text/porter.js';
import type { TenantHandle } from '../vault/handle.js';
import { readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import { registerTenantSetting, settingParses } from '../vault/tenant-settings.js';
import { backgroundJobKey, pendingInBackground, startInBackground } from './background-job.js';
import { fuseRrf, hybridRank, SEARCH_DEFAULTS, type RankedHit } from './search.js';

/** Below this many chunks a tenant keeps SEARCH_DEFAULTS (too few passages to learn from). */
export const CALIBRATION_MIN_CHUNKS = 50;
/** Synthetic queries drawn per calibration. */
export const CALIBRATION_QUERIES = 80;
/** The vector weights tried (BM25's weight stays 1, rrfK the default), the default's among them. */
export const CALIBRATION_WEIGHTS: readonly number[] = [...new Set([0, 0.2, 0.4, 0.6, 0.8, 1, SEARCH_DEFAULTS.vectorWeight])].sort((a, b) => a - b);
/** Words per synthetic query. */
const QUERY_WORDS = 4;
/** A passage with fewer distinct content stems makes no query. */
const MIN_PASSAGE_STEMS = 8;
/**
 * The default weight stays unless another beats it on the synthetic queries by more than this
 * (mean nDCG@10): it was chosen on judged queries of three collections, a synthetic set is a
 * rougher guide, so it must show a clear gain to move away.
 */
const MARGIN = 0.01;
/** Recalibrate when the chunk count has moved by this factor either way. */
const GROWTH = 2;
const SEED = 0x19c0ffee;

export const FusionCalibration = z
  .object({
    vectorWeight: z.number().min(0).max(10),
    /** Chunks in the tenant when it was computed. */
    chunks: z.number().int().min(0),
    /** The vector index it was computed on (an embedder change or re-embed makes another). */
    embedderId: z.string().min(1).max(400),
    generation: z.number().int().min(0),
    queries: z.number().int().min(0),
    /** Mean nDCG@10 of the source passage under each weight tried, by weight. */
    scores: z.record(z.string(), z.number()),
  })
  .strict();
export type FusionCalibration = z.infer<typeof FusionCalibration>;

const KEY = 'retrieval.fusion-calibration';
registerTenantSetting(KEY, FusionCalibration);

/** The calibration in flight for an open tenant (one at a time), in its cache. */
const IN_FLIGHT = backgroundJobKey<FusionCalibration>('fusion calibration in flight');

/** The stored calibration of this tenant, or null (none, or unreadable: the default applies). */
export function readCalibration(tenant: TenantHandle): FusionCalibration | null {
  const raw = readTenantMeta(tenant, KEY);
  if (raw === undefined || !settingParses(raw, FusionCalibration)) return null;
  return FusionCalibration.parse(JSON.parse(raw));
}

export interface SyntheticQuery {
  readonly chunkId: number;
  readonly text: string;
}

/**
 * Known-item queries from the tenant's own chunks: a chunk drawn at random (seeded), and
 * QUERY_WORDS of its distinct words drawn without replacement with chance proportional to tf x
 * idf (the passage's telling words, but not always its rarest, which would make every query a
 * BM25 exact match). Deterministic for a given tenant's chunks.
 */
export function syntheticQueries(tenant: TenantHandle, count = CALIBRATION_QUERIES): SyntheticQuery[] {
  const ids = tenant.db.prepare('SELECT id FROM chunks ORDER BY id').pluck().all() as number[];
  const random = mulberry32(SEED);
  const textOf = tenant.db.prepare('SELECT text FROM chunks WHERE id = ?').pluck();
  const stems = stemCacheOf(tenant);
  const tried = new Set<number>();
  const out: SyntheticQuery[] = [];
  while (out.length < count && tried.size < Math.min(ids.length, count * 4)) {
    const chunkId = ids[Math.floor(random() * ids.length)]!;
    if (tried.has(chunkId)) continue;
    tried.add(chunkId);
    const words = contentWords(String(textOf.get(chunkId) ?? ''));
    const tf = new Map<string, number>();
    const surface = new Map<string, string>();
    for (const word of words) {
      const stem = porterStemCached(word, stems);
      tf.set(stem, (tf.get(stem) ?? 0) + 1);
      if (!surface.has(stem)) surface.set(stem, word);
    }
    if (tf.size < MIN_PASSAGE_STEMS) continue;
    const stats = termStats(tenant, tf.keys());
    const pool = [...tf]
      .map(([stem, n]) => ({ stem, weight: stats.df(stem) > 0 ? n * Math.max(0, idf(stats, stem)) : 0 }))
      .filter((p) => p.weight > 0)
      .sort((a, b) => (a.stem < b.stem ? -1 : 1));
    if (pool.length < QUERY_WORDS) continue;
    const picked: string[] = [];
    while (picked.length < QUERY_WORDS) {
      const total = pool.reduce((s, p) => s + p.weight, 0);
      let at = random() * total;
      let i = 0;
      while (i < pool.length - 1 && at >= pool[i]!.weight) at -= pool[i++]!.weight;
      picked.push(surface.get(pool[i]!.stem)!);
      pool.splice(i, 1);
    }
    out.push({ chunkId, text: picked.join(' ') });
  }
  return out;
}

/** nDCG@10 with one relevant item: 1 / log2(rank + 1) within the first ten, else 0. */
function ndcg10(ranked: readonly { chunkId: number }[], relevant: number): number {
  const at = ranked.slice(0, 10).findIndex((h) => h.chunkId === relevant);
  return at < 0 ? 0 : 1 / Math.log2(at + 2);
}

/**
 * Calibrates now and stores the result in the tenant's file; null (nothing stored) for a tenant
 * under CALIBRATION_MIN_CHUNKS, without vectors, or without enough passages to make queries.
 * Errors (an embedder that fails, the tenant closing) are thrown to the caller.
 */
export async function calibrateTenant(tenant: TenantHandle, embedder: Embedder, signal?: AbortSignal): Promise<FusionCalibration | null> {
  const index = activeVectorIndex(tenant);
  const chunks = termStats(tenant, []).total;
  if (!index || index.embedderId !== embedder.id || chunks < CALIBRATION_MIN_CHUNKS) return null;
  const queries = syntheticQueries(tenant);
  if (queries.length < CALIBRATION_QUERIES / 4) return null;
  const sums = CALIBRATION_WEIGHTS.map(() => 0);
  for (const q of queries) {
    // Searches waiting on this tenant go first: a calibration runs beside them, between theirs.
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    // One ranking per query: the two lists do not depend on the weights, only their fusion does.
    const { bm25, vector } = await hybridRank(tenant, embedder, q.text, SEARCH_DEFAULTS, signal);
    CALIBRATION_WEIGHTS.forEach((w, i) => {
      sums[i]! += ndcg10(fuse(bm25, vector, w), q.chunkId);
    });
  }
  const means = sums.map((s) => s / queries.length);
  const defaultAt = CALIBRATION_WEIGHTS.indexOf(SEARCH_DEFAULTS.vectorWeight);
  let best = defaultAt;
  for (let i = 0; i < means.length; i++) if (means[i]! > means[best]! + (best === defaultAt ? MARGIN : 0)) best = i;
  const result: FusionCalibration = {
    vectorWeight: CALIBRATION_WEIGHTS[best]!,
    chunks,
    embedderId: index.embedderId,
    generation: index.generation,
    queries: queries.length,
    scores: Object.fromEntries(CALIBRATION_WEIGHTS.map((w, i) => [String(w), Number(means[i]!.toFixed(4))])),
  };
  writeTenantMeta(tenant, KEY, JSON.stringify(result));
  return result;
}

function fuse(bm25: readonly RankedHit[], vector: readonly RankedHit[], vectorWeight: number) {
  return fuseRrf(bm25, vector, { ...SEARCH_DEFAULTS, vectorWeight });
}

/** Whether a stored calibration still describes this tenant: same vector index, chunk count within GROWTH. */
function current(c: FusionCalibration, tenant: TenantHandle, chunks: number): boolean {
  const index = activeVectorIndex(tenant);
  return !!index && index.embedderId === c.embedderId && index.generation === c.generation && chunks < c.chunks * GROWTH && chunks * GROWTH > c.chunks;
}

/**
 * The vector weight a search of this tenant fuses with: its calibrated one when it describes the
 * tenant's vector index, SEARCH_DEFAULTS' otherwise (and for tiny tenants). When none is current,
 * starts one in the background (at most one at a time per open tenant) for later searches. Never
 * throws.
 */
export function fusionWeightFor(tenant: TenantHandle, embedder: Embedder | null): number {
  try {
    const chunks = termStats(tenant, []).total;
    if (chunks < CALIBRATION_MIN_CHUNKS || !embedder) return SEARCH_DEFAULTS.vectorWeight;
    const stored = readCalibration(tenant);
    if (stored && current(stored, tenant, chunks)) return stored.vectorWeight;
    startCalibration(tenant, embedder, chunks);
    // Grown past the calibration, same vectors: its weight is still the better guess meanwhile.
    const index = activeVectorIndex(tenant);
    return stored && index?.generation === stored.generation && index.embedderId === stored.embedderId ? stored.vectorWeight : SEARCH_DEFAULTS.vectorWeight;
  } catch {
    return SEARCH_DEFAULTS.vectorWeight;
  }
}

/** The calibration running in the background for this tenant, if any (it resolves to null on failure). */
export function pendingCalibration(tenant: TenantHandle): Promise<FusionCalibration | null> | undefined {
  return pendingInBackground(tenant, IN_FLIGHT);
}

function startCalibration(tenant: TenantHandle, embedder: Embedder, chunks: number): void {
  // A failed calibration changes nothing: searches keep the default (or the last good value).
  startInBackground(tenant, IN_FLIGHT, chunks, () => calibrateTenant(tenant, embedder));
}
