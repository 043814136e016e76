import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addNote, countNotes, listNotes } from '../../../src-main/agent/notes.js';
import { guardTenantErrors } from '../../../src-main/vault/handle.js';
import type { Vault } from '../../../src-main/vault/vault.js';
import { freshVault } from '../../helpers/vault.js';

async function vaultWithTwoTenants(): Promise<{ vault: Vault; victim: string; healthy: string; file: string }> {
  const vault = await freshVault();
  const victim = vault.createTenant('Victim & Co').id;
  const healthy = vault.createTenant('Healthy Ltd').id;
  for (const id of [victim, healthy]) {
    const t = vault.openSession().open(id);
    t.db.transaction(() => {
      for (let i = 0; i < 2000; i++) addNote(t, { title: `note ${i}`, body: 'some words of text '.repeat(20) });
    })();
  }
  vault.lock();
  return { vault, victim, healthy, file: path.join(vault.paths.tenants, `${victim}.bulkhead`) };
}

async function expectOnlyVictimBroken(vault: Vault, victim: string, healthy: string): Promise<void> {
  const { TEST_PASSPHRASE } = await import('../../helpers/vault.js');
  await vault.unlock(TEST_PASSPHRASE);
  const session = vault.openSession();
  let error: unknown;
  try {
    // Opening detects a damaged header or a cut file; damage deeper in shows on the first read.
    const t = session.open(victim);
    guardTenantErrors(t, () => listNotes(t, 1000).length + countNotes(t) + Number(t.db.prepare('SELECT sum(length(body)) FROM notes').pluck().get()));
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({ code: 'TENANT_CORRUPT', message: expect.stringContaining('Victim & Co') });
  expect(countNotes(session.open(healthy))).toBe(2000);
  vault.lock();
}

describe('a damaged tenant file', () => {
  it('cut in half: opening it names the tenant, the others work', async () => {
    const { vault, victim, healthy, file } = await vaultWithTwoTenants();
    const size = fs.statSync(file).size;
    fs.truncateSync(file, Math.floor(size / 2 / 4096) * 4096);
    await expectOnlyVictimBroken(vault, victim, healthy);
  });

  it('cut at an odd length: opening it names the tenant, the others work', async () => {
    const { vault, victim, healthy, file } = await vaultWithTwoTenants();
    fs.truncateSync(file, 1000);
    await expectOnlyVictimBroken(vault, victim, healthy);
  });

  it('a flipped byte in the first page: opening it names the tenant, the others work', async () => {
    const { vault, victim, healthy, file } = await vaultWithTwoTenants();
    const fd = fs.openSync(file, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 100);
    b[0]! ^= 0xff;
    fs.writeSync(fd, b, 0, 1, 100);
    fs.closeSync(fd);
    await expectOnlyVictimBroken(vault, victim, healthy);
  });

  it('a flipped byte deep inside: the first read names the tenant, the others work', async () => {
    const { vault, victim, healthy, file } = await vaultWithTwoTenants();
    const fd = fs.openSync(file, 'r+');
    const at = Math.floor(fs.statSync(file).size * 0.6);
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0]! ^= 0x01;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    await expectOnlyVictimBroken(vault, victim, healthy);
  });

  it('a missing file is an error naming the tenant, never a fresh empty tenant', async () => {
    const { vault, victim, healthy, file } = await vaultWithTwoTenants();
    fs.rmSync(file);
    await expectOnlyVictimBroken(vault, victim, healthy);
    expect(fs.existsSync(file)).toBe(false);
  });

  it("another tenant's file put in its place is refused", async () => {
    const { vault, victim, healthy, file } = await vaultWithTwoTenants();
    fs.copyFileSync(path.join(vault.paths.tenants, `${healthy}.bulkhead`), file);
    await expectOnlyVictimBroken(vault, victim, healthy);
  });

  it('a symbolic link in place of a tenant file is refused', async () => {
    const { vault, victim, file } = await vaultWithTwoTenants();
    const elsewhere = `${file}.elsewhere`;
    fs.renameSync(file, elsewhere);
    fs.symlinkSync(elsewhere, file);
    const { TEST_PASSPHRASE } = await import('../../helpers/vault.js');
    await vault.unlock(TEST_PASSPHRASE);
    expect(() => vault.openSession().open(victim)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
    vault.lock();
  });

  it('a missing registry beside existing tenant files is an error, never an empty vault', async () => {
    const { vault } = await vaultWithTwoTenants();
    fs.rmSync(vault.paths.registry);
    const { TEST_PASSPHRASE } = await import('../../helpers/vault.js');
    await expect(vault.unlock(TEST_PASSPHRASE)).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT' });
    expect(fs.existsSync(vault.paths.registry)).toBe(false);
  });
});
