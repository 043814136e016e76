import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAudit, listAudit, verifyAudit, type AuditKind } from '../../../src-main/vault/audit-chain.js';
import { canonicalJson } from '../../../src-main/vault/canonical-json.js';
import { deleteDocument } from '../../../src-main/ingest/documents.js';
import { createEmbedder } from '../../../src-main/embed/index.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { readEmbedderConfig } from '../../../src-main/embed/settings.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

type Db = TenantHandle['db'];

/** A tenant with a chain of 8 records: tenant.open then seven more. */
async function tenantWithChain(): Promise<{ vault: Vault; tenant: TenantHandle; id: string }> {
  const vault = await freshVault();
  const { id } = vault.createTenant('Acme');
  const tenant = vault.openSession().open(id);
  const kinds: AuditKind[] = ['ingest', 'search', 'search', 'document.delete', 'note.save', 'tool.call', 'export'];
  kinds.forEach((kind, i) => appendAudit(tenant, kind, { n: i, documentId: i + 10, ok: i % 2 === 0, note: null }));
  return { vault, tenant, id };
}

/** What someone with SQL access to the file would do first: drop the append-only guards. */
function tamper(db: Db, sql: string): void {
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  db.exec(sql);
}

function expectBroken(tenant: TenantHandle, seq: number, reason: RegExp): void {
  const v = verifyAudit(tenant);
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect(v.firstBadSeq).toBe(seq);
  expect(v.reason).toMatch(reason);
}

describe('audit chain', () => {
  it('appends numbered records, lists them and verifies, with the head equal to the last hash', async () => {
    const { vault, tenant } = await tenantWithChain();
    const all = listAudit(tenant);
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(all[0]!.kind).toBe('tenant.open');
    expect(all[1]!.data).toEqual({ n: 0, documentId: 10, ok: true, note: null });
    expect(new Set(all.map((r) => r.hash)).size).toBe(8);
    expect(listAudit(tenant, { afterSeq: 5, limit: 2 }).map((r) => r.seq)).toEqual([6, 7]);
    expect(verifyAudit(tenant)).toEqual({ ok: true, count: 8, head: all[7]!.hash });
    vault.lock();
  });

  it('chains by HMAC, not by a bare hash: the record does not verify under a plain SHA-256 chain', async () => {
    const { vault, tenant } = await tenantWithChain();
    const [first] = listAudit(tenant, { limit: 1 });
    const plain = crypto
      .createHash('sha256')
      .update(`${'0'.repeat(64)}\n${canonicalJson({ seq: first!.seq, at: first!.at, kind: first!.kind, data: first!.data })}`)
      .digest('hex');
    expect(first!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first!.hash).not.toBe(plain);
    vault.lock();
  });

  it('keeps the chain and its head across lock, a fresh Vault and reopening; each open is recorded', async () => {
    const dir = tempDir();
    const vault = await freshVault(dir);
    const { id } = vault.createTenant('Acme');
    appendAudit(vault.openSession().open(id), 'search', { queryHash: 'ab'.repeat(32) });
    vault.lock();
    const again = new Vault(dir);
    await again.unlock(TEST_PASSPHRASE);
    const t = again.openSession().open(id);
    expect(listAudit(t).map((r) => r.kind)).toEqual(['tenant.open', 'search', 'tenant.open']);
    expect(verifyAudit(t)).toMatchObject({ ok: true, count: 3 });
    again.lock();
  });

  it('refuses text, nested values, odd field names and unknown kinds', async () => {
    const { vault, tenant } = await tenantWithChain();
    const bad: unknown[] = [{ passage: 'x'.repeat(201) }, { nested: { a: 1 } as unknown as string }, { 'bad key': 1 }, { n: Number.NaN }];
    for (const data of bad) expect(() => appendAudit(tenant, 'search', data as never)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => appendAudit(tenant, 'rm -rf' as AuditKind)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(verifyAudit(tenant)).toMatchObject({ ok: true, count: 8 });
    vault.lock();
  });

  it('refuses an append inside an open transaction (its head would run ahead of a rollback)', async () => {
    const { vault, tenant } = await tenantWithChain();
    expect(() => tenant.db.transaction(() => appendAudit(tenant, 'note.save'))()).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    vault.lock();
  });

  it('is append-only for ordinary SQL: UPDATE and DELETE are refused by trigger', async () => {
    const { vault, tenant } = await tenantWithChain();
    expect(() => tenant.db.exec("UPDATE audit_log SET kind = 'search' WHERE seq = 2")).toThrow(/append-only/);
    expect(() => tenant.db.exec('DELETE FROM audit_log WHERE seq = 8')).toThrow(/append-only/);
    vault.lock();
  });

  it('records ingest, search and delete with ids, hashes and counts, never the text or the query', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    const tenant = vault.openSession().open(id);
    const folder = tempDir();
    const secret = 'zanzibar-canary-7781 quarterly revenue forecast';
    fs.writeFileSync(path.join(folder, 'plan.md'), `# Plan\n\n${secret}\n`);
    const summary = await ingestPaths(tenant, [folder], { embedder: createEmbedder(tenant, readEmbedderConfig(tenant)) });
    expect(summary.added).toBe(1);
    const docId = summary.files[0]!.documentId!;
    await searchKnowledge(tenant, 'zanzibar-canary-7781');
    deleteDocument(tenant, docId);
    const records = listAudit(tenant);
    expect(records.map((r) => r.kind)).toEqual(['tenant.open', 'ingest', 'search', 'document.delete']);
    expect(records[1]!.data).toMatchObject({ documentId: docId, chunks: 1, replaced: false });
    expect(records[1]!.data.sha256).toBe(
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(folder, 'plan.md')))
        .digest('hex'),
    );
    expect(records[2]!.data).toMatchObject({ queryHash: crypto.createHash('sha256').update('zanzibar-canary-7781').digest('hex'), k: 10, results: 1 });
    expect(records[3]!.data).toMatchObject({ documentId: docId, chunks: 1 });
    const stored = JSON.stringify(tenant.db.prepare('SELECT * FROM audit_log').all());
    expect(stored).not.toContain('zanzibar');
    expect(stored).not.toContain('plan.md');
    expect(verifyAudit(tenant)).toMatchObject({ ok: true, count: 4 });
    vault.lock();
  });
});

describe('audit chain tampering, done directly in SQL', () => {
  it('an edited record is named (data, time or kind)', async () => {
    for (const edit of ['data = \'{"n":99}\'', "at = '2020-01-01T00:00:00.000Z'", "kind = 'export'"]) {
      const { vault, tenant } = await tenantWithChain();
      tamper(tenant.db, `UPDATE audit_log SET ${edit} WHERE seq = 4`);
      expectBroken(tenant, 4, /record 4 does not match its MAC/);
      vault.lock();
    }
  });

  it('a deleted record in the middle is named as missing', async () => {
    const { vault, tenant } = await tenantWithChain();
    tamper(tenant.db, 'DELETE FROM audit_log WHERE seq = 5');
    expectBroken(tenant, 5, /record 5 is missing/);
    vault.lock();
  });

  it('a deleted record renumbered to hide the gap is named', async () => {
    const { vault, tenant } = await tenantWithChain();
    tamper(tenant.db, 'DELETE FROM audit_log WHERE seq = 5; UPDATE audit_log SET seq = seq - 1 WHERE seq > 5');
    expectBroken(tenant, 5, /record 5 does not match/);
    vault.lock();
  });

  it('two records swapped (by number, or by content) are named at the first of them', async () => {
    const bySeq = await tenantWithChain();
    tamper(
      bySeq.tenant.db,
      'UPDATE audit_log SET seq = -1 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -1',
    );
    expectBroken(bySeq.tenant, 3, /record 3 does not match/);
    bySeq.vault.lock();

    const byContent = await tenantWithChain();
    tamper(
      byContent.tenant.db,
      `CREATE TEMP TABLE r AS SELECT * FROM audit_log WHERE seq IN (6, 7);
       UPDATE audit_log SET (at, kind, data, hash) = (SELECT at, kind, data, hash FROM r WHERE r.seq = 13 - audit_log.seq) WHERE seq IN (6, 7);`,
    );
    expectBroken(byContent.tenant, 6, /record 6 does not match/);
    byContent.vault.lock();
  });

  it('an inserted record is named, in the middle or at the end, even with a well-formed hash', async () => {
    const middle = await tenantWithChain();
    const fake = crypto.createHash('sha256').update('forged').digest('hex');
    tamper(
      middle.tenant.db,
      `UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3; UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103;
       INSERT INTO audit_log (seq, at, kind, data, hash) VALUES (3, '${new Date().toISOString()}', 'export', '{}', '${fake}')`,
    );
    expectBroken(middle.tenant, 3, /record 3 does not match/);
    middle.vault.lock();

    const end = await tenantWithChain();
    tamper(end.tenant.db, `INSERT INTO audit_log (seq, at, kind, data, hash) VALUES (9, '${new Date().toISOString()}', 'export', '{}', '${fake}')`);
    expectBroken(end.tenant, 9, /record 9 does not match/);
    end.vault.lock();
  });

  it('a record copied from another tenant (same position, its own valid MAC there) is named', async () => {
    const a = await tenantWithChain();
    const b = a.vault.createTenant('Globex');
    const other = a.vault.openSession().open(b.id);
    const row = other.db.prepare('SELECT * FROM audit_log WHERE seq = 1').get() as { at: string; kind: string; data: string; hash: string };
    tamper(a.tenant.db, `UPDATE audit_log SET at = '${row.at}', kind = '${row.kind}', data = '${row.data}', hash = '${row.hash}' WHERE seq = 1`);
    expectBroken(a.tenant, 1, /record 1 does not match/);
    a.vault.lock();
  });

  it('a cut tail is caught by the head kept in the registry, and survives a fresh Vault', async () => {
    const { vault, tenant, id } = await tenantWithChain();
    tamper(tenant.db, 'DELETE FROM audit_log WHERE seq >= 7');
    expectBroken(tenant, 7, /records 7 to 8 were removed from the end/);
    vault.lock();
    // Reopening appends 'tenant.open' as record 7, then one more makes a new record 8: neither
    // pulls the registry's head back, and the new record 8 is not the one it saw.
    const again = new Vault(vault.paths.dataDir);
    await again.unlock(TEST_PASSPHRASE);
    const t = again.openSession().open(id);
    expectBroken(t, 8, /record 8 was removed from the end/);
    appendAudit(t, 'search', { queryHash: 'cd'.repeat(32) });
    expectBroken(t, 8, /record 8 differs from the one the vault last saw/);
    again.lock();
  });

  it('the whole chain deleted is caught too', async () => {
    const { vault, tenant } = await tenantWithChain();
    tamper(tenant.db, 'DELETE FROM audit_log');
    expectBroken(tenant, 1, /records 1 to 8 were removed/);
    vault.lock();
  });
});
