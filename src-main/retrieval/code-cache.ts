import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Db } from '../vault/sqlite.js';
import { SIMHASH_BITS } from './simhash.js';
import { codeTable, vectorWriteCount, type VectorIndex } from './vectors.js';

const WORDS = SIMHASH_BITS / 32;

/** The SimHash codes of one vector generation, in memory: 128 bytes a chunk (13 MB at 100,000). */
interface Codes extends CodeSet {
  readonly generation: number;
  /** SQLite's data_version when loaded: it changes when another connection commits. */
  readonly dataVersion: number;
  /** vectorWriteCount when loaded: it changes when this process writes vectors. */
  readonly writeCount: number;
}

/**
 * Held per open handle and dropped with it (a WeakMap: nothing outlives the handle, nothing is
 * shared between tenants, nothing is written anywhere). Writes through this connection show in
 * vectorWriteCount, commits by another connection in SQLite's data_version: either reloads it.
 */
const byTenant = new WeakMap<TenantHandle, Codes>();

/** Parses SQLite's comma-separated integers (group_concat of ids) into `out`; returns the count. */
function parseIds(text: string, out: Int32Array): number {
  if (text.length === 0) return 0;
  let n = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 44) {
      out[n++] = value;
      value = 0;
    } else value = value * 10 + (c - 48);
  }
  out[n++] = value;
  return n;
}

/** Chunk ids (ascending) and their codes, WORDS 32-bit words each, in the same order. */
export interface CodeSet {
  readonly ids: Int32Array;
  readonly words: Uint32Array;
}

/**
 * Reads the codes of `table` (columns chunk_id, code), optionally only the rows where
 * `filter.column` (an identifier from code, never input) equals `filter.value`, in one scan in
 * chunk-id order with two aggregates (the ids, and the codes, each concatenated): a row at a time
 * through the driver costs several times more than decrypting the pages. The ids must come back
 * ascending and as many as the codes; anything else is a damaged table.
 */
export function readCodeSet(db: Db, table: string, label: string, filter?: { column: string; value: number }): CodeSet {
  const size = WORDS * 4;
  const where = filter ? `AND ${filter.column} = ${Math.trunc(filter.value)}` : '';
  const scan = `FROM (SELECT chunk_id, code FROM ${table} WHERE length(code) = ${size} ${where} ORDER BY chunk_id)`;
  const { idText, blob } = db.prepare(`SELECT group_concat(chunk_id, ',') AS idText, CAST(group_concat(code, x'') AS BLOB) AS blob ${scan}`).get() as {
    idText: string | null;
    blob: Buffer | null;
  };
  const count = (blob?.byteLength ?? 0) / size;
  const ids = new Int32Array(count);
  if (!Number.isInteger(count) || parseIds(idText ?? '', ids) !== count || !ids.every((id, i) => i === 0 || id > ids[i - 1]!)) {
    throw new BulkheadError('TENANT_CORRUPT', `${label}: its vector codes did not read back whole`);
  }
  const words = new Uint32Array(count * WORDS);
  if (blob) new Uint8Array(words.buffer).set(blob);
  return { ids, words };
}

function codesOf(tenant: TenantHandle, index: VectorIndex): Codes {
  const dataVersion = Number(tenant.db.pragma('data_version', { simple: true }));
  const writeCount = vectorWriteCount(tenant);
  const cached = byTenant.get(tenant);
  if (cached?.generation === index.generation && cached.dataVersion === dataVersion && cached.writeCount === writeCount) return cached;
  const fresh = { generation: index.generation, dataVersion, writeCount, ...readCodeSet(tenant.db, codeTable(index), `tenant "${tenant.name}"`) };
  byTenant.set(tenant, fresh);
  return fresh;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** The open tenant's `count` chunks whose codes are nearest to `code` (see nearestInSet). */
export function nearestCodes(tenant: TenantHandle, index: VectorIndex, code: Buffer, count: number): number[] {
  return nearestInSet(codesOf(tenant, index), code, count);
}

/**
 * The `count` chunk ids of `set` whose codes are nearest to `code` in Hamming distance (ties by
 * chunk id), ascending: one pass over every code, then a counting selection on the distance.
 * (A first pass over the first 256 bits only, to skip most of the full distances, saved a third
 * of the time but cut recall@10 at 100,000 chunks from 0.98 to 0.94: not worth it.)
 */
export function nearestInSet(set: CodeSet, code: Buffer, count: number): number[] {
  const { ids, words } = set;
  const q = new Uint32Array(WORDS);
  new Uint8Array(q.buffer).set(code.subarray(0, WORDS * 4));
  const distance = new Uint16Array(ids.length);
  for (let r = 0, o = 0; r < ids.length; r++, o += WORDS) {
    let d = 0;
    for (let w = 0; w < WORDS; w++) d += popcount32(words[o + w]! ^ q[w]!);
    distance[r] = d;
  }
  return Array.from(smallest(distance, SIMHASH_BITS, count), (r) => ids[r]!);
}

/** Positions (ascending) of the `count` smallest distances, ties to the lower position; a counting selection. */
function smallest(distance: Uint16Array, maxDistance: number, count: number): Int32Array {
  const histogram = new Uint32Array(maxDistance + 1);
  for (let i = 0; i < distance.length; i++) histogram[distance[i]!]!++;
  // The largest distance that still fits, and how many of that distance fit.
  let cutoff = 0;
  let below = 0;
  while (cutoff < maxDistance && below + histogram[cutoff]! < count) below += histogram[cutoff++]!;
  let atCutoff = count - below;
  const out = new Int32Array(Math.min(count, distance.length));
  for (let i = 0, k = 0; i < distance.length && k < out.length; i++) {
    const d = distance[i]!;
    if (d < cutoff || (d === cutoff && atCutoff-- > 0)) out[k++] = i;
  }
  return out;
}
