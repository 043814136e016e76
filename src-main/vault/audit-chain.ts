import { BulkheadError } from '../../src-shared/errors.js';
import { advanceExternalAuditHead, auditMac, externalAuditHead, type TenantHandle } from './handle.js';
import { canonicalJson } from './canonical-json.js';

export type AuditKind =
  | 'tenant.open'
  | 'ingest'
  | 'document.delete'
  | 'search'
  | 'model.call'
  | 'tool.call'
  | 'tool.refused'
  | 'note.save'
  | 'conversation.create'
  | 'export'
  | 'import'
  | 'key.rotate'
  | 'connector.add'
  | 'connector.remove'
  | 'connector.allow'
  | 'connector.call'
  | 'connector.refused'
  | 'connector.confirm'
  | 'connector.lock'
  | 'connector.unlock'
  | 'mcp.serve'
  | 'mcp.call'
  | 'document.tags'
  | 'document.shared'
  | 'answer.withheld';

export const AUDIT_KINDS: readonly AuditKind[] = [
  'tenant.open',
  'ingest',
  'document.delete',
  'search',
  'model.call',
  'tool.call',
  'tool.refused',
  'note.save',
  'conversation.create',
  'export',
  'import',
  'key.rotate',
  'connector.add',
  'connector.remove',
  'connector.allow',
  'connector.call',
  'connector.refused',
  'connector.confirm',
  'connector.lock',
  'connector.unlock',
  'mcp.serve',
  'mcp.call',
  'document.tags',
  'document.shared',
  'answer.withheld',
];

/** Ids, hashes, counts: never document text, prompts or answers. */
export type AuditData = Readonly<Record<string, string | number | boolean | null>>;

export interface AuditRecord {
  seq: number;
  at: string;
  kind: AuditKind;
  data: AuditData;
  hash: string;
}

export type AuditVerdict = { ok: true; count: number; head: string | null } | { ok: false; count: number; firstBadSeq: number; reason: string };

/** Long enough for a hash, an id or a path-free label; too short to smuggle a passage in. */
const MAX_VALUE_CHARS = 200;
const MAX_FIELDS = 32;
const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;
/** What the first record chains to. */
const GENESIS = '0'.repeat(64);

interface Row {
  seq: number;
  at: string;
  kind: string;
  data: string;
  hash: string;
}

/**
 * Appends one record to the open tenant's audit chain: its hash is an HMAC (keyed from the
 * tenant's data key) over the previous hash and the canonical JSON of this record. Call it
 * outside any transaction: the head kept in the registry moves only after the record committed.
 */
export function appendAudit(handle: TenantHandle, kind: AuditKind, data: AuditData = {}): AuditRecord {
  if (handle.db.inTransaction) throw new BulkheadError('INTERNAL', 'audit records are appended after the transaction they describe has committed');
  const record = handle.db.transaction(() => appendAuditInTransaction(handle, kind, data)).immediate();
  publishAuditHead(handle, record);
  return record;
}

/**
 * Appends a record inside the caller's transaction, so that it commits or rolls back with the
 * change it describes (one commit instead of two). Pass it to `publishAuditHead` once that
 * transaction committed; a head left behind by a crash in between is one the chain runs past,
 * which verifyAudit accepts (it checks the record at the head, not that the head is last).
 */
export function appendAuditInTransaction(handle: TenantHandle, kind: AuditKind, data: AuditData = {}): AuditRecord {
  checkKind(kind);
  const clean = checkData(data);
  const db = handle.db;
  if (!db.inTransaction) throw new BulkheadError('INTERNAL', 'appendAuditInTransaction needs the transaction of the change it records');
  const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  const seq = (last?.seq ?? 0) + 1;
  const at = new Date().toISOString();
  const hash = auditMac(handle, macMessage(last?.hash ?? GENESIS, { seq, at, kind, data: clean }));
  db.prepare('INSERT INTO audit_log (seq, at, kind, data, hash) VALUES (?, ?, ?, ?, ?)').run(seq, at, kind, canonicalJson(clean), hash);
  return { seq, at, kind, data: clean, hash };
}

/** Moves the head kept outside the tenant's file to a record that has committed. */
export function publishAuditHead(handle: TenantHandle, record: AuditRecord): void {
  advanceExternalAuditHead(handle, { seq: record.seq, hash: record.hash });
}

export function listAudit(handle: TenantHandle, opts: { afterSeq?: number; limit?: number } = {}): AuditRecord[] {
  const after = Math.max(0, Math.trunc(opts.afterSeq ?? 0));
  const limit = Math.max(1, Math.min(Math.trunc(opts.limit ?? 1000), 100_000));
  const rows = handle.db.prepare('SELECT seq, at, kind, data, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?').all(after, limit) as Row[];
  return rows.map((r) => ({ seq: r.seq, at: r.at, kind: r.kind as AuditKind, data: parseData(r.data) ?? {}, hash: r.hash }));
}

/**
 * Walks the chain from the first record and names the first one that was altered, removed,
 * reordered or inserted; then checks the head kept outside the file, which catches a cut tail.
 */
export function verifyAudit(handle: TenantHandle): AuditVerdict {
  let prev = GENESIS;
  let expected = 1;
  let count = 0;
  const hashes = new Map<number, string>();
  const rows = handle.db.prepare('SELECT seq, at, kind, data, hash FROM audit_log ORDER BY seq').iterate() as IterableIterator<Row>;
  for (const row of rows) {
    const bad = checkRow(handle, row, expected, prev);
    if (bad) return { ok: false, count, firstBadSeq: bad.seq, reason: bad.reason };
    prev = row.hash;
    hashes.set(row.seq, row.hash);
    count++;
    expected++;
  }
  const head = externalAuditHead(handle);
  if (head && head.seq > count) {
    const cut = head.seq === count + 1 ? `record ${head.seq} was` : `records ${count + 1} to ${head.seq} were`;
    return { ok: false, count, firstBadSeq: count + 1, reason: `${cut} removed from the end of the chain (the vault last saw record ${head.seq})` };
  }
  if (head && hashes.get(head.seq) !== head.hash) {
    return { ok: false, count, firstBadSeq: head.seq, reason: `record ${head.seq} differs from the one the vault last saw at the head of the chain` };
  }
  return { ok: true, count, head: count > 0 ? prev : null };
}

function checkRow(handle: TenantHandle, row: Row, expected: number, prev: string): { seq: number; reason: string } | null {
  if (row.seq !== expected) {
    const missing = row.seq - 1 === expected ? `record ${expected} is` : `records ${expected} to ${row.seq - 1} are`;
    return { seq: expected, reason: `${missing} missing from the chain` };
  }
  const data = parseData(row.data);
  if (!data || !AUDIT_KINDS.includes(row.kind as AuditKind)) return { seq: row.seq, reason: `record ${row.seq} is malformed (altered)` };
  const mac = auditMac(handle, macMessage(prev, { seq: row.seq, at: row.at, kind: row.kind, data }));
  if (mac !== row.hash) return { seq: row.seq, reason: `record ${row.seq} does not match its MAC: it was altered, moved or inserted` };
  return null;
}

function macMessage(prevHash: string, body: { seq: number; at: string; kind: string; data: AuditData }): string {
  return `${prevHash}\n${canonicalJson(body)}`;
}

function parseData(text: string): AuditData | null {
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    return v as AuditData;
  } catch {
    return null;
  }
}

function checkKind(kind: string): void {
  if (!AUDIT_KINDS.includes(kind as AuditKind)) throw new BulkheadError('INPUT_INVALID', `unknown audit record kind "${kind}"`);
}

function checkData(data: AuditData): AuditData {
  const entries = Object.entries(data);
  if (entries.length > MAX_FIELDS) throw new BulkheadError('INPUT_INVALID', `an audit record holds at most ${MAX_FIELDS} fields`);
  for (const [k, v] of entries) {
    if (!KEY_PATTERN.test(k)) throw new BulkheadError('INPUT_INVALID', `audit field name "${k.slice(0, 40)}" is not a plain identifier`);
    if (typeof v === 'number' && !Number.isFinite(v)) throw new BulkheadError('INPUT_INVALID', `audit field ${k} is not a finite number`);
    if (typeof v === 'string' && v.length > MAX_VALUE_CHARS) {
      throw new BulkheadError('INPUT_INVALID', `audit field ${k} is longer than ${MAX_VALUE_CHARS} characters: records hold ids and hashes, never text`);
    }
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v))
      throw new BulkheadError('INPUT_INVALID', `audit field ${k} must be a string, number, boolean or null`);
  }
  return Object.freeze({ ...data });
}
