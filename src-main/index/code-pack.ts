// The code pack: a copy of a generation's SimHash codes in a few large rows, so that the first
// search after opening a tenant reads them in one cheap pass. The per-chunk table stays the truth;
// the pack records the count of vector writes it was built at (storedVectorWrites) and is used
// only while that count has not moved, so a stale or missing pack costs speed, never results.
//
// Why: reading 100,000 codes row by row (one aggregate over the per-chunk table) took 93 ms right
// after opening, of which about 30 ms is SQLite stepping through 100,000 rows and concatenating
// them, not decrypting pages. Parts of 8,192 codes are 1 MB blobs on overflow pages: the read is
// then mostly the decryption.
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { isStorageError } from '../vault/sqlite.js';
import { codeTable, codePackTable, storedVectorWrites, type VectorIndex } from './vectors.js';
import { deleteTenantMeta, readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';

/** Codes per pack row. */
export const PACK_PART = 8192;
/** Below this many codes the row-by-row read takes a few ms, and a pack would only be written for nothing. */
export const PACK_MIN_CODES = 5000;

const META_KEY = 'knowledge.codepack';
const CODE_BYTES = 128;

interface PackMeta {
  generation: number;
  writes: number;
  count: number;
  /** Codes per part (PACK_PART unless a test asked for another). */
  part: number;
}

function readMeta(tenant: TenantHandle): PackMeta | null {
  const raw = readTenantMeta(tenant, META_KEY);
  if (raw === undefined) return null;
  let meta: Partial<PackMeta>;
  try {
    meta = JSON.parse(raw) as Partial<PackMeta>;
  } catch {
    return null; // unreadable: as if there were no pack (it is derived; the next refresh rewrites it)
  }
  const whole = [meta.generation, meta.writes, meta.count, meta.part].every(Number.isInteger) && (meta.part ?? 0) > 0;
  return whole ? (meta as PackMeta) : null;
}

/** The generation's pack record if the pack is current: built for this generation, with no vector write since. */
function currentMeta(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): PackMeta | null {
  const meta = readMeta(tenant);
  return meta && meta.generation === index.generation && meta.writes === storedVectorWrites(tenant) ? meta : null;
}

/** The codes in chunk-id order: ids as little-endian int32, then the codes. */
export interface PackedCodes {
  ids: Int32Array;
  codes: Uint8Array;
}

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

/**
 * Reads the per-chunk codes of the generation in one scan in chunk-id order with two aggregates
 * (the ids, and the codes, each concatenated): a row at a time through the driver costs several
 * times more than decrypting the pages.
 */
export function readCodeRows(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): PackedCodes {
  const scan = `FROM (SELECT chunk_id, code FROM ${codeTable(index)} WHERE length(code) = ${CODE_BYTES} ORDER BY chunk_id)`;
  const row = tenant.db.prepare(`SELECT group_concat(chunk_id, ',') AS idText, CAST(group_concat(code, x'') AS BLOB) AS blob ${scan}`).get() as {
    idText: string | null;
    blob: Buffer | null;
  };
  return parseCodeRows(row, `tenant "${tenant.name}"`);
}

/**
 * The codes of one such scan (`idText`: the ids comma-separated, `blob`: the codes concatenated).
 * The ids must come back ascending and as many as the codes; anything else is a damaged table.
 */
export function parseCodeRows({ idText, blob }: { idText: string | null; blob: Buffer | null }, label: string): PackedCodes {
  const count = (blob?.byteLength ?? 0) / CODE_BYTES;
  const ids = new Int32Array(count);
  if (!Number.isInteger(count) || parseIds(idText ?? '', ids) !== count || !ids.every((id, i) => i === 0 || id > ids[i - 1]!)) {
    throw new BulkheadError('TENANT_CORRUPT', `${label}: its vector codes did not read back whole`);
  }
  return { ids, codes: blob ?? new Uint8Array(0) };
}

/** Parts `from` (inclusive) to `to` (exclusive) of a pack; all of it by default. */
export interface PackShare {
  from?: number;
  to?: number;
}

/** A share of a pack, with which pack it came from (so two shares read apart can be checked to fit). */
export interface PackedShare extends PackedCodes {
  writes: number;
  count: number;
}

/**
 * The generation's codes from its pack (or the parts in `share`), or null when there is no pack
 * for it or it is stale (a vector write since it was built). A pack that is current but does not
 * read back whole is a damaged file.
 */
export function readCodePack(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>, share: PackShare = {}): PackedShare | null {
  const meta = currentMeta(tenant, index);
  if (!meta) return null;
  const parts = Math.ceil(meta.count / meta.part);
  const from = Math.min(parts, Math.max(0, share.from ?? 0));
  const to = Math.min(parts, Math.max(from, share.to ?? parts));
  const expected = Math.max(0, Math.min(meta.count, to * meta.part) - from * meta.part);
  const row = tenant.db
    .prepare(
      `SELECT CAST(group_concat(ids, x'') AS BLOB) AS ids, CAST(group_concat(codes, x'') AS BLOB) AS codes
         FROM (SELECT ids, codes FROM ${codePackTable(index)} WHERE part >= ? AND part < ? ORDER BY part)`,
    )
    .get(from, to) as { ids: Buffer | null; codes: Buffer | null };
  const idBytes = row.ids ?? Buffer.alloc(0);
  const codes = row.codes ?? Buffer.alloc(0);
  if (idBytes.byteLength !== expected * 4 || codes.byteLength !== expected * CODE_BYTES) {
    throw new BulkheadError('TENANT_CORRUPT', `tenant "${tenant.name}": its packed vector codes did not read back whole`);
  }
  const ids = new Int32Array(expected);
  for (let i = 0; i < expected; i++) ids[i] = idBytes.readInt32LE(4 * i);
  if (!ids.every((id, i) => i === 0 || id > ids[i - 1]!))
    throw new BulkheadError('TENANT_CORRUPT', `tenant "${tenant.name}": its packed vector codes are out of order`);
  return { ids, codes, writes: meta.writes, count: meta.count };
}

/** The number of parts of the generation's current pack, or 0 when it has none (or a stale one). */
export function currentPackParts(tenant: TenantHandle, index: Pick<VectorIndex, 'generation'>): number {
  const meta = currentMeta(tenant, index);
  return meta ? Math.ceil(meta.count / meta.part) : 0;
}

/** Whether two shares read apart are the first and the rest of one same pack. */
export function sharesFit(first: PackedShare, rest: PackedShare): boolean {
  const lastOfFirst = first.ids.at(-1);
  return (
    first.writes === rest.writes &&
    first.count === rest.count &&
    first.ids.length + rest.ids.length === first.count &&
    (lastOfFirst === undefined || rest.ids.length === 0 || rest.ids[0]! > lastOfFirst)
  );
}

/**
 * The background reader's job (see vault/background-reader.ts): readCodePack on its own
 * connection, with the codes in a buffer of their own so they travel back without a copy.
 */
export function readCodePackJob(tenant: TenantHandle, generation: number, from: number, to: number): PackedShare | null {
  const packed = readCodePack(tenant, { generation }, { from, to });
  return packed && { ...packed, codes: new Uint8Array(packed.codes) };
}

/**
 * Rebuilds the pack of the active generation from the per-chunk codes when it is stale, in one
 * transaction (a crash leaves the old pack, which is then stale, or the new one). Small tenants
 * (below `minCodes`, default PACK_MIN_CODES) get no pack, and lose an old one. Returns whether a pack was written.
 */
export function refreshCodePack(tenant: TenantHandle, index: VectorIndex, opts: { minCodes?: number; partSize?: number } = {}): boolean {
  const partSize = opts.partSize ?? PACK_PART;
  if (!Number.isInteger(partSize) || partSize < 1) throw new RangeError(`a pack part holds at least one code, not ${partSize}`);
  return tenant.db
    .transaction(() => {
      if (currentMeta(tenant, index)) return false;
      const writes = storedVectorWrites(tenant);
      const table = codePackTable(index);
      const { ids, codes } = readCodeRows(tenant, index);
      tenant.db.exec(`DROP TABLE IF EXISTS ${table}`);
      if (ids.length < (opts.minCodes ?? PACK_MIN_CODES)) {
        deleteTenantMeta(tenant, META_KEY);
        return false;
      }
      tenant.db.exec(`CREATE TABLE ${table} (part INTEGER PRIMARY KEY, ids BLOB NOT NULL, codes BLOB NOT NULL) STRICT`);
      const insert = tenant.db.prepare(`INSERT INTO ${table} (part, ids, codes) VALUES (?, ?, ?)`);
      for (let part = 0, from = 0; from < ids.length; part++, from += partSize) {
        const to = Math.min(ids.length, from + partSize);
        const idBytes = Buffer.alloc((to - from) * 4);
        for (let i = from; i < to; i++) idBytes.writeInt32LE(ids[i]!, 4 * (i - from));
        insert.run(part, idBytes, codes.subarray(from * CODE_BYTES, to * CODE_BYTES));
      }
      const value: PackMeta = { generation: index.generation, writes, count: ids.length, part: partSize };
      writeTenantMeta(tenant, META_KEY, JSON.stringify(value));
      return true;
    })
    .immediate();
}

/**
 * refreshCodePack after a batch of writes, as an optimisation only: if it cannot be written (a
 * full disk, a busy file), the pack stays stale and searches read the per-chunk codes instead.
 * The batch it follows has committed either way, so its outcome must not turn into a failure.
 */
export function packCodes(tenant: TenantHandle, index: VectorIndex): void {
  try {
    refreshCodePack(tenant, index);
  } catch (err) {
    if (!tenant.isOpen || !isStorageError(err)) throw err;
  }
}
