// bulkhead verify: the isolation self-test passes on a healthy data folder, changes no tenant's
// content, names no client, and fails (exit 5) when a canary leaks or an audit chain is broken.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listNotes, addNote } from '../../src-main/agent/notes.js';
import { canonicalJson } from '../../src-main/vault/canonical-json.js';
import { runIsolationCheck, writeIsolationReport } from '../../src-main/verify/isolation.js';
import { listDocuments } from '../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import type { Vault } from '../../src-main/vault/vault.js';
import { storeChunks } from '../helpers/retrieval.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const NAMES = ['Acme Holdings', 'Birch & Co', 'Cobalt Labs'];
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function populatedVault(): Promise<{ vault: Vault; dir: string }> {
  const dir = tempDir('bulkhead-verify-');
  dirs.push(dir);
  const vault = await freshVault(dir);
  const session = vault.openSession();
  for (const name of NAMES) {
    const t = session.open(vault.createTenant(name).id);
    await storeChunks(t, new HashedEmbedder(), [
      `${name} renewal terms are ninety days`,
      `${name} invoices go to the finance team`,
      'the vault phrase is not here',
    ]);
    addNote(t, { title: `${name} note`, body: 'kept as it is' });
  }
  session.dispose();
  return { vault, dir };
}

function contentOf(vault: Vault): unknown {
  const session = vault.openSession();
  try {
    return vault.listTenants().map((rec) => {
      const t = session.open(rec.id);
      return { id: rec.id, name: rec.name, docs: listDocuments(t).map((d) => [d.id, d.title, d.sha256]), notes: listNotes(t).map((n) => [n.title, n.body]) };
    });
  } finally {
    session.dispose();
  }
}

function tamperAudit(vault: Vault, tenantId: string): void {
  const session = vault.openSession();
  const t = session.open(tenantId);
  t.db.exec('DROP TRIGGER audit_log_no_update; UPDATE audit_log SET data = \'{"edited":true}\' WHERE seq = 1;');
  session.dispose();
}

describe('bulkhead verify', () => {
  it('passes on a healthy data folder, changes no content, names no client, and seals its report', async () => {
    const { vault, dir } = await populatedVault();
    const before = contentOf(vault);
    const progress: string[] = [];
    const report = await runIsolationCheck(vault, { appVersion: '0.1.0-test', onProgress: (m) => progress.push(m) });

    expect(report.passed).toBe(true);
    expect(report.tenants).toBe(3);
    expect(report.controls.map((c) => c.id).sort()).toEqual([
      'audit',
      'context',
      'cross-tenant',
      'files',
      'integrity',
      'keys',
      'retrieval',
      'tenant-files',
      'tools',
      'vault-audit',
    ]);
    for (const c of report.controls) expect(c.attempts, c.id).toBeGreaterThan(0);
    expect(report.controls.find((c) => c.id === 'keys')!.attempts).toBe(4); // 3 tenants + the scratch one
    expect(contentOf(vault)).toEqual(before); // the scratch tenant is gone again, nothing else changed
    const { sha256, ...body } = report;
    expect(sha256).toBe(crypto.createHash('sha256').update(canonicalJson(body)).digest('hex'));

    const files = writeIsolationReport(report, path.join(dir, 'out'));
    const json = fs.readFileSync(files.json, 'utf8');
    const html = fs.readFileSync(files.html, 'utf8');
    expect(html).toContain('All controls passed');
    for (const text of [json, html, progress.join('\n')]) for (const name of NAMES) expect(text).not.toContain(name);
    vault.lock();
  });

  it('fails the files control, naming the file, when the canary sits in plain text under the data folder', async () => {
    const { vault, dir } = await populatedVault();
    const canary = `BHCANARYTEST${crypto.randomBytes(6).toString('hex')}`;
    fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
    // A leaky log line, in UTF-16 to check that encoding is caught too.
    fs.writeFileSync(path.join(dir, 'logs', 'app.log'), Buffer.from(`{"msg":"indexed ${canary}"}\n`, 'utf16le'));
    const report = await runIsolationCheck(vault, { appVersion: 'test', canary });
    expect(report.passed).toBe(false);
    const files = report.controls.find((c) => c.id === 'files')!;
    expect(files.pass).toBe(false);
    expect(files.findings.join('\n')).toContain(path.join('logs', 'app.log'));
    expect(report.controls.filter((c) => !c.pass).map((c) => c.id)).toEqual(['files']);
    vault.lock();
  });

  it('from the CLI: exit 0 with the report written; exit 5 and one line on stderr when an audit chain was altered', async () => {
    const { vault, dir } = await populatedVault();
    const tenant = vault.listTenants()[1]!;
    vault.lock();
    const run = (args: string[]) =>
      spawnSync(process.execPath, [path.resolve('bin/bulkhead.js'), '--data-dir', dir, ...args], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          BULKHEAD_PASSPHRASE: TEST_PASSPHRASE,
          BULKHEAD_VERIFY_TEMP_DIR: tempDir('bulkhead-verify-temp-'),
        },
      });
    const out = path.join(dir, 'reports-here');
    const ok = run(['--json', 'verify', '--out', out]);
    expect(ok.status, ok.stderr).toBe(0);
    const { report, files } = JSON.parse(ok.stdout) as { report: { passed: boolean }; files: { json: string; html: string } };
    expect(report.passed).toBe(true);
    expect(fs.existsSync(files.html) && path.dirname(files.json) === out).toBe(true);

    await vault.unlock(TEST_PASSPHRASE);
    tamperAudit(vault, tenant.id);
    vault.lock();
    const bad = run(['verify', '--out', out]);
    expect(bad.status).toBe(5);
    expect(bad.stdout).toMatch(new RegExp(`FAIL  Every audit chain verifies[\\s\\S]*tenant ${tenant.id}: record 1`));
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(/^bulkhead: 1 of 10 isolation controls failed/);
    expect(bad.stdout + bad.stderr).not.toContain(tenant.name);
  });

  it('on a data folder with the sample clients (bulkhead samples): every control passes', () => {
    const dir = tempDir('bulkhead-verify-samples-');
    dirs.push(dir);
    const run = (args: string[]) =>
      spawnSync(process.execPath, [path.resolve('bin/bulkhead.js'), '--data-dir', dir, ...args], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          BULKHEAD_PASSPHRASE: TEST_PASSPHRASE,
          BULKHEAD_VERIFY_TEMP_DIR: tempDir('bulkhead-verify-temp-'),
        },
      });
    expect(run(['init']).status).toBe(0);
    const samples = run(['--json', 'samples']);
    expect(samples.status, samples.stderr).toBe(0);
    expect((JSON.parse(samples.stdout) as unknown[]).length).toBe(2);
    expect(run(['samples']).stdout).toMatch(/exist already/);
    const verified = run(['--json', 'verify']);
    expect(verified.status, verified.stderr).toBe(0);
    const { report } = JSON.parse(verified.stdout) as { report: { passed: boolean; tenants: number; controls: { pass: boolean }[] } };
    expect(report).toMatchObject({ passed: true, tenants: 2 });
    expect(report.controls.every((c) => c.pass)).toBe(true);
  });
});
