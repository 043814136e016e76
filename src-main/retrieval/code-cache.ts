import type { TenantHandle } from '../vault/handle.js';
import { cacheKey, wipe } from '../vault/tenant-cache.js';
import { readInBackground } from '../vault/background-reader.js';
import { currentPackParts, readCodePack, readCodeRows, sharesFit, type PackedShare } from '../index/code-pack.js';
import { CodeSet } from '../index/code-set.js';
import { sameStamp, vectorStamp, type VectorIndex, type VectorStamp } from '../index/vectors.js';

/** The SimHash codes of one vector generation, in memory (13 MB at 100,000 chunks), with when they were read. */
interface Codes {
  readonly set: CodeSet;
  readonly stamp: VectorStamp;
}

/**
 * Held in the open tenant's cache and dropped (zeroed) when it closes: nothing outlives the
 * handle, nothing is shared between tenants, nothing is written anywhere. Read again once its
 * stamp is not the tenant's stamp of now (see VectorStamp).
 */
const CODES = cacheKey<Codes>('vector codes', (codes) => codes.set.zero());

/** The open tenant's codes of this generation, read once and kept until a vector write or another connection's commit. */
export function codeSetOf(tenant: TenantHandle, index: VectorIndex): CodeSet {
  const stamp = vectorStamp(tenant, index);
  const cached = tenant.cache.get(CODES);
  if (cached && sameStamp(cached.stamp, stamp)) return cached.set;
  const packed = readCodePack(tenant, index) ?? readCodeRows(tenant, index);
  const set = CodeSet.from(packed.ids, packed.codes);
  tenant.cache.set(CODES, { set, stamp });
  return set;
}

/** Whether the open tenant's codes of this generation are in memory and current (a warm search). */
export function codesInMemory(tenant: TenantHandle, index: VectorIndex): boolean {
  return sameStamp(tenant.cache.get(CODES)?.stamp, vectorStamp(tenant, index));
}

/**
 * The share of a pack's parts the background reader decrypts while this thread runs the
 * full-text side (about 35 ms right after opening at 100,000 chunks, against about 55 ms for all
 * the codes here, more on the reader, which opens its own connection and hands the codes over):
 * this thread reads the rest when the vector stage needs them. Of 0.6, 0.75 and 0.9, 0.6 gave the
 * fastest first search at 100,000 chunks (medians of 85 to 96 ms against 90 to 114).
 */
const BACKGROUND_SHARE = 0.6;

interface Prefetch {
  /** Taken before the read. */
  readonly stamp: VectorStamp;
  /** The first part this thread reads. */
  readonly split: number;
  readonly theirs: Promise<PackedShare | null>;
}

/** A prefetch under way (its result is not the tenant's until codesReady takes it). */
const PREFETCH = cacheKey<Prefetch>('vector code prefetch', (p) => void p.theirs.then(wipe));

/**
 * Starts reading the first parts of the tenant's code pack on the background reader, when the
 * codes are not in memory and the tenant has a current pack (smaller tenants read theirs in a few
 * ms here). `codesReady` completes it. The versions are taken now, before the read: a commit that
 * lands meanwhile makes the result look stale, so it is read again rather than trusted.
 */
export function prefetchCodes(tenant: TenantHandle, index: VectorIndex): void {
  const stamp = vectorStamp(tenant, index);
  if (sameStamp(tenant.cache.get(CODES)?.stamp, stamp) || tenant.cache.get(PREFETCH)) return;
  const parts = currentPackParts(tenant, index);
  if (parts < 2) return;
  const split = Math.max(1, Math.min(parts - 1, Math.round(parts * BACKGROUND_SHARE)));
  const job = { module: new URL('../index/code-pack.js', import.meta.url), name: 'readCodePackJob', args: [index.generation, 0, split] };
  const theirs = readInBackground<PackedShare | null>(tenant, job).catch(() => null);
  tenant.cache.set(PREFETCH, { stamp, split, theirs });
}

/**
 * Completes a prefetch: reads this thread's parts, waits for the background reader's, and keeps
 * the whole if both come from the same current pack (true). Otherwise (no prefetch, the reader
 * failed, a write meanwhile) it leaves the cache as it was, and codeSetOf reads the codes itself.
 */
export async function codesReady(tenant: TenantHandle, index: VectorIndex): Promise<boolean> {
  const prefetch = tenant.cache.get(PREFETCH);
  if (!prefetch) return false;
  tenant.cache.delete(PREFETCH);
  if (prefetch.stamp.generation !== index.generation || !tenant.isOpen) return false;
  const mine = readCodePack(tenant, index, { from: prefetch.split });
  const theirs = await prefetch.theirs;
  if (!mine || !theirs || !tenant.isOpen || !sharesFit(theirs, mine)) return false;
  const ids = new Int32Array(theirs.ids.length + mine.ids.length);
  ids.set(theirs.ids);
  ids.set(mine.ids, theirs.ids.length);
  const set = CodeSet.from(ids, [theirs.codes, mine.codes]);
  tenant.cache.set(CODES, { set, stamp: prefetch.stamp });
  return true;
}
