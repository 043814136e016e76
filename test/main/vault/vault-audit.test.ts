// The vault-level audit chain (issue 15, "Authority as a type"): unlocks, failed unlocks,
// presentation start and end, and every use of the vault-wide authority, HMAC-chained with the
// head in the registry; `audit verify --vault` and `verify` check it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { invokeCall } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { vaultAuditFile } from '../../../src-main/vault/vault-audit.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

const NAME = 'Zanzibar Quill Ltd';

async function ok(p: Promise<{ ok: boolean; value?: unknown; error?: unknown }>): Promise<Record<string, unknown>> {
  const r = await p;
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value as Record<string, unknown>;
}

/** A vault whose chain holds: init, a failed unlock, an unlock, create, rename, presentation start/end, a failed exit, delete. */
async function busyVault(): Promise<{ dataDir: string; kinds: string[] }> {
  const dataDir = tempDir();
  const s = new ConsoleSession({ dataDir, kdf: TEST_KDF });
  await ok(invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE }));
  await ok(invokeCall(s, 'vault.lock', {}));
  expect((await invokeCall(s, 'vault.unlock', { passphrase: 'not the passphrase at all' })).ok).toBe(false);
  await ok(invokeCall(s, 'vault.unlock', { passphrase: TEST_PASSPHRASE }));
  const t = await ok(invokeCall(s, 'tenants.create', { name: NAME }));
  await ok(invokeCall(s, 'tenants.rename', { tenantId: t.id, name: `${NAME} Two` }));
  await ok(invokeCall(s, 'presentation.enter', { tenantId: t.id }));
  expect((await invokeCall(s, 'tenants.create', { name: 'Refused Co' })).ok).toBe(false);
  expect((await invokeCall(s, 'presentation.exit', { passphrase: 'wrong wrong wrong' })).ok).toBe(false);
  await ok(invokeCall(s, 'presentation.exit', { passphrase: TEST_PASSPHRASE }));
  await ok(invokeCall(s, 'tenants.delete', { tenantId: t.id, confirmName: `${NAME} Two` }));
  const kinds = s.vault.listVaultAudit().map((r) => `${r.kind}${r.data.op ? `:${String(r.data.op)}` : ''}`);
  s.dispose();
  return { dataDir, kinds };
}

async function verdict(dataDir: string): Promise<ReturnType<Vault['verifyVaultAudit']>> {
  const v = new Vault(dataDir);
  await v.unlock(TEST_PASSPHRASE);
  try {
    return v.verifyVaultAudit();
  } finally {
    v.lock();
  }
}

describe('the vault audit chain', () => {
  it('records unlocks, failed unlocks, presentation and every use of the authority, with ids and codes only', async () => {
    const { dataDir, kinds } = await busyVault();
    expect(kinds).toEqual([
      'vault.init',
      'vault.unlock.failed',
      'vault.unlock',
      'authority:tenant.create',
      'authority:tenant.rename',
      'presentation.start',
      'vault.unlock.failed',
      'presentation.end',
      'authority:tenant.delete',
    ]);
    const text = fs.readFileSync(vaultAuditFile(dataDir), 'utf8');
    expect(text).not.toContain('Zanzibar');
    expect(text).not.toContain(TEST_PASSPHRASE);
    expect(fs.existsSync(path.join(dataDir, 'vault-audit.pending.jsonl'))).toBe(false);
    // The unlock of this check is a record too, so it verifies what came before and itself.
    expect(await verdict(dataDir)).toMatchObject({ ok: true, count: kinds.length + 1 });
  });

  it('names an altered record, and catches a cut tail through the head in the registry', async () => {
    const { dataDir } = await busyVault();
    const file = vaultAuditFile(dataDir);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');

    const altered = [...lines];
    altered[3] = altered[3]!.replace('tenant.create', 'tenant.rekey');
    fs.writeFileSync(file, `${altered.join('\n')}\n`);
    expect(await verdict(dataDir)).toMatchObject({ ok: false, firstBadSeq: 4 });

    // Cut the tail (including the unlock the check above added): the chain itself is consistent.
    const all = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(file, `${lines.slice(0, 6).join('\n')}\n`);
    const cut = await verdict(dataDir);
    expect(cut.ok).toBe(false);
    expect(cut.ok ? '' : cut.reason).toContain('removed from the end');
    expect(all.length).toBeGreaterThan(6);
  });

  it('is checked by `bulkhead audit verify --vault` (exit 5 when broken) and by `verify`', async () => {
    const { dataDir } = await busyVault();
    const bin = path.resolve('bin/bulkhead.js');
    const verifyTemp = tempDir('bulkhead-verify-temp-');
    const run = (args: string[]): { code: number | null; out: string } => {
      const r = spawnSync(process.execPath, [bin, '--data-dir', dataDir, ...args], {
        encoding: 'utf8',
        // verify also scans a temp folder for the tenants' fingerprints: its own, not the shared /tmp
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE, BULKHEAD_VERIFY_TEMP_DIR: verifyTemp },
      });
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    };
    expect(run(['tenant', 'create', 'Verify One']).code).toBe(0);
    expect(run(['tenant', 'create', 'Verify Two']).code).toBe(0);
    expect(run(['verify']).code).toBe(0);
    const good = run(['audit', 'verify', '--vault']);
    expect(good.code, good.out).toBe(0);
    expect(good.out).toContain('vault audit chain verifies');
    const file = vaultAuditFile(dataDir);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    fs.writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n`);
    const bad = run(['audit', 'verify', '--vault']);
    expect(bad.code, bad.out).toBe(5);
    expect(bad.out).toContain('AUDIT_BROKEN');
    const verify = run(['verify']);
    expect(verify.code, verify.out).not.toBe(0);
    expect(verify.out).toMatch(/vault audit chain/i);
  });
});
