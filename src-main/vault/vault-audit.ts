import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import { canonicalJson } from './canonical-json.js';
import { randomKey, type Keyring } from './keyring.js';
import type { Registry } from './registry.js';

/**
 * The vault's own tamper-evident chain: every use of the vault-wide authority (tenants created,
 * renamed, deleted, exported, imported, rekeyed; backups; settings; keychain; verify), every
 * unlock and failed unlock, every presentation start and end. Ids and codes only, never a name.
 * One JSON line per record in `vault-audit.jsonl`, each an HMAC (a random key, wrapped by the
 * master key) over the previous hash and the record; the head is kept in the encrypted registry
 * (table vault_audit), so a cut tail is caught. A failed unlock has no key to sign with: it
 * waits in `vault-audit.pending.jsonl` and joins the chain at the next unlock.
 */
export type VaultAuditKind =
  | 'vault.init'
  | 'vault.unlock'
  | 'vault.unlock.failed'
  | 'vault.passphrase.change'
  | 'presentation.start'
  | 'presentation.end'
  | 'authority';

export const VAULT_AUDIT_KINDS: readonly VaultAuditKind[] = [
  'vault.init',
  'vault.unlock',
  'vault.unlock.failed',
  'vault.passphrase.change',
  'presentation.start',
  'presentation.end',
  'authority',
];

export type VaultAuditData = Readonly<Record<string, string | number | boolean | null>>;

export interface VaultAuditRecord {
  seq: number;
  at: string;
  kind: VaultAuditKind;
  data: VaultAuditData;
  hash: string;
}

export type VaultAuditVerdict = { ok: true; count: number } | { ok: false; count: number; firstBadSeq: number; reason: string };

/** What the chain's wrapped key is bound to (no tenant id has this form). */
export const VAULT_AUDIT_SLOT = 'vault';
const GENESIS = '0'.repeat(64);
const VALUE = /^[A-Za-z0-9_.:-]{0,80}$/;

export function vaultAuditFile(dataDir: string): string {
  return path.join(dataDir, 'vault-audit.jsonl');
}

function pendingFile(dataDir: string): string {
  return path.join(dataDir, 'vault-audit.pending.jsonl');
}

/** A failed unlock, kept until the next unlock can sign it (no key is held now). */
export function notePendingFailure(dataDir: string, code: string): void {
  try {
    fs.appendFileSync(pendingFile(dataDir), `${JSON.stringify({ at: new Date().toISOString(), code: clean({ code }).code })}\n`, { mode: 0o600 });
  } catch {
    // No data folder yet (no vault): nothing to record against.
  }
}

export class VaultAudit {
  constructor(
    private readonly dataDir: string,
    private readonly ring: () => Keyring,
    private readonly reg: () => Registry,
  ) {}

  append(kind: VaultAuditKind, data: VaultAuditData = {}): VaultAuditRecord {
    if (!VAULT_AUDIT_KINDS.includes(kind)) throw new BulkheadError('INPUT_INVALID', `unknown vault audit kind "${kind}"`);
    const body = clean(data);
    const key = this.#key();
    try {
      const records = this.#read();
      const last = records[records.length - 1];
      const seq = (last?.seq ?? 0) + 1;
      const at = new Date().toISOString();
      const hash = mac(key, last?.hash ?? GENESIS, { seq, at, kind, data: body });
      const record: VaultAuditRecord = { seq, at, kind, data: body, hash };
      const fd = fs.openSync(vaultAuditFile(this.dataDir), 'a', 0o600);
      try {
        fs.writeSync(fd, `${canonicalJson(record)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      this.reg().advanceVaultAuditHead(seq, hash);
      return record;
    } finally {
      key.fill(0);
    }
  }

  /** Signs the failed unlocks that waited for a key, then forgets them. */
  foldPending(): void {
    const file = pendingFile(this.dataDir);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const p = JSON.parse(line) as { at?: unknown; code?: unknown };
        this.append('vault.unlock.failed', { failedAt: String(p.at ?? ''), code: String(p.code ?? '') });
      } catch (err) {
        if (err instanceof SyntaxError || err instanceof BulkheadError) this.append('vault.unlock.failed', { code: 'UNREADABLE' });
        else throw err;
      }
    }
    fs.rmSync(file, { force: true });
  }

  list(): VaultAuditRecord[] {
    return this.#read();
  }

  /** Walks the chain, names the first altered, missing or inserted record, and checks the head. */
  verify(): VaultAuditVerdict {
    const key = this.#key();
    try {
      let prev = GENESIS;
      let count = 0;
      const hashes = new Map<number, string>();
      let lines: string[];
      try {
        lines = fs
          .readFileSync(vaultAuditFile(this.dataDir), 'utf8')
          .split('\n')
          .filter((l) => l.length > 0);
      } catch {
        lines = [];
      }
      for (const line of lines) {
        const expected = count + 1;
        let r: VaultAuditRecord;
        try {
          r = JSON.parse(line) as VaultAuditRecord;
        } catch {
          return { ok: false, count, firstBadSeq: expected, reason: `record ${expected} is malformed (altered)` };
        }
        if (r.seq !== expected) return { ok: false, count, firstBadSeq: expected, reason: `record ${expected} is missing from the chain` };
        if (typeof r.data !== 'object' || r.data === null || mac(key, prev, { seq: r.seq, at: r.at, kind: r.kind, data: r.data }) !== r.hash) {
          return { ok: false, count, firstBadSeq: r.seq, reason: `record ${r.seq} does not match its MAC: it was altered, moved or inserted` };
        }
        prev = r.hash;
        hashes.set(r.seq, r.hash);
        count++;
      }
      const head = this.reg().vaultAudit()?.head ?? null;
      if (head && head.seq > count) {
        return {
          ok: false,
          count,
          firstBadSeq: count + 1,
          reason: `records ${count + 1} to ${head.seq} were removed from the end of the chain (the vault last saw record ${head.seq})`,
        };
      }
      if (head && hashes.get(head.seq) !== head.hash) {
        return { ok: false, count, firstBadSeq: head.seq, reason: `record ${head.seq} differs from the one the vault last saw at the head of the chain` };
      }
      return { ok: true, count };
    } finally {
      key.fill(0);
    }
  }

  /** The chain's key; a vault from before the chain gets its slot now. */
  #key(): Buffer {
    const reg = this.reg();
    const slot = reg.vaultAudit();
    if (slot) return this.ring().unwrapAuditKey(VAULT_AUDIT_SLOT, slot.wrappedKey);
    const key = randomKey();
    reg.putVaultAudit(this.ring().wrapAuditKey(VAULT_AUDIT_SLOT, key));
    return key;
  }

  #read(): VaultAuditRecord[] {
    let text: string;
    try {
      text = fs.readFileSync(vaultAuditFile(this.dataDir), 'utf8');
    } catch {
      return [];
    }
    const out: VaultAuditRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as VaultAuditRecord);
      } catch {
        throw new BulkheadError('AUDIT_BROKEN', 'the vault audit chain is damaged: run `bulkhead audit verify --vault`');
      }
    }
    return out;
  }
}

function mac(key: Buffer, prev: string, body: { seq: number; at: string; kind: string; data: VaultAuditData }): string {
  return crypto
    .createHmac('sha256', key)
    .update(`${prev}\n${canonicalJson(body)}`, 'utf8')
    .digest('hex');
}

/** Ids and codes only: a value that is not one is not written. */
function clean(data: VaultAuditData): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(data).slice(0, 16)) {
    if (!/^[A-Za-z][A-Za-z0-9_.]{0,40}$/.test(k)) continue;
    out[k] = typeof v === 'string' ? (VALUE.test(v) ? v : 'REDACTED') : typeof v === 'number' && !Number.isFinite(v) ? null : v;
  }
  return out;
}
