import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addNote } from '../../src-main/agent/notes.js';
import { runIsolationCheck } from '../../src-main/verify/isolation.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const BIN = path.resolve('bin/bulkhead.js');

function cli(dataDir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function flipByte(file: string, fraction: number): void {
  const fd = fs.openSync(file, 'r+');
  const at = Math.floor(fs.statSync(file).size * fraction);
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0]! ^= 0x01;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
}

/** Three tenants, one with a flipped byte deep inside its file. */
async function damagedVault(): Promise<{ dir: string; victim: string; healthy: string[] }> {
  const vault = await freshVault();
  const ids = ['Victim & Co', 'Healthy One', 'Healthy Two'].map((n) => vault.createTenant(n).id);
  for (const id of ids) {
    const t = vault.openSession().open(id);
    t.db.transaction(() => {
      for (let i = 0; i < 1500; i++) addNote(t, { title: `note ${i}`, body: 'some words of text '.repeat(20) });
    })();
  }
  vault.lock();
  flipByte(path.join(vault.paths.tenants, `${ids[0]}.bulkhead`), 0.6);
  return { dir: vault.paths.dataDir, victim: ids[0]!, healthy: ids.slice(1) };
}

describe('damage is named, never global', () => {
  it('doctor --deep, backup and tenant list name the damaged tenant (TENANT_CORRUPT, exit 5) and go on with the others', async () => {
    const { dir, victim, healthy } = await damagedVault();
    const doctor = cli(dir, ['--json', 'doctor', '--deep']);
    expect(doctor.stderr).not.toMatch(/INTERNAL|malformed/);
    expect(doctor.code).toBe(5);
    // --json prints the report, then the error as one more JSON line.
    const report = JSON.parse(doctor.stdout.slice(0, doctor.stdout.lastIndexOf('\n{"error"'))) as { tenants: { id: string; ok: boolean; detail: string }[] };
    expect(report.tenants.find((t) => t.id === victim)).toMatchObject({ ok: false, detail: expect.stringMatching(/^TENANT_CORRUPT|integrity/) });
    for (const id of healthy) expect(report.tenants.find((t) => t.id === id)).toMatchObject({ ok: true });

    const out = path.join(tempDir(), 'backup');
    const backup = cli(dir, ['backup', '--out', out]);
    expect(backup.stderr).not.toMatch(/INTERNAL|malformed/);
    expect(backup.code).toBe(5);
    expect(backup.stderr).toMatch(/Victim & Co.*damaged.*\[TENANT_CORRUPT\]/);
    for (const id of [victim, ...healthy]) expect(fs.existsSync(path.join(out, 'tenants', `${id}.bulkhead`))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'backup-manifest.json'), 'utf8')) as { damaged: string[] };
    expect(manifest.damaged).toEqual([victim]);

    const list = cli(dir, ['--json', 'tenant', 'list']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((t) => t.id).sort()).toEqual([victim, ...healthy].sort());
  });

  it('verify runs integrity_check on every tenant, fails on the damaged one, and still checks the others', async () => {
    const { dir, victim, healthy } = await damagedVault();
    const { Vault } = await import('../../src-main/vault/vault.js');
    const vault = new Vault(dir);
    await vault.unlock(TEST_PASSPHRASE);
    const report = await runIsolationCheck(vault, { appVersion: 'test' });
    vault.lock();
    expect(report.passed).toBe(false);
    const integrity = report.controls.find((c) => c.id === 'integrity')!;
    expect(integrity).toMatchObject({ pass: false, attempts: 3 });
    expect(integrity.findings).toEqual([`tenant ${victim}: its file is damaged (TENANT_CORRUPT)`]);
    expect(report.controls.filter((c) => c.id !== 'integrity').every((c) => c.pass)).toBe(true);
    expect(report.controls.find((c) => c.id === 'audit')!.attempts).toBe(healthy.length + 1);
    const run = cli(dir, ['verify']);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/\[ISOLATION_FAILED\]/);
    expect(run.stderr).not.toMatch(/INTERNAL/);
  });

  it('a damaged registry is REGISTRY_CORRUPT (exit 5), not INTERNAL', async () => {
    const vault = await freshVault();
    for (let i = 0; i < 60; i++) vault.createTenant(`Client number ${i} with a long enough name to fill pages`);
    vault.lock();
    flipByte(vault.paths.registry, 0.7);
    const list = cli(vault.paths.dataDir, ['tenant', 'list']);
    expect(list.stderr).toMatch(/\[REGISTRY_CORRUPT\]/);
    expect(list.code).toBe(5);
  });
});
