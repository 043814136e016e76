import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src-main/vault/audit-chain.js';
import { restoreBackup } from '../../src-main/vault/backup.js';
import { Vault } from '../../src-main/vault/vault.js';
import { linesOf, runAndKill, type KilledRun } from '../helpers/kill.js';
import { dumpTables, expectSameContent, populateTenant, tenantTables } from '../helpers/lifecycle.js';
import { freshVault, TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const TRIALS = 20;
const CHILD = 'test/helpers/child-lifecycle.ts';
const EXPORT_PASS = 'kill test export passphrase';

/** Kills the child a random while after its first operation started: mostly mid-operation. */
function killDuring(op: string, dataDir: string, tenantId: string, target: string, maxDelayMs: number): Promise<KilledRun> {
  return runAndKill(CHILD, [op, dataDir, tenantId, target], { armOn: 'start 0', delayMs: () => Math.floor(Math.random() * maxDelayMs) });
}

/** The number of the operation in flight when the kill landed, or null if it fell between two. */
function inFlight(run: KilledRun): number | null {
  if (!run.killed) throw new Error(`the child ended by itself (${run.code}): ${run.stderr}`);
  const last = linesOf(run).at(-1) ?? '';
  return last.startsWith('start ') ? Number(last.slice(6)) : null;
}

async function sourceTenant(): Promise<{ vault: Vault; id: string; before: Record<string, unknown[][]> }> {
  const vault = await freshVault();
  const { id } = vault.createTenant('Acme');
  vault.createTenant('Globex');
  await populateTenant(vault, id, 'canary-kill-lifecycle', 3);
  const before = tenantTables(vault, id);
  vault.lock();
  return { vault, id, before };
}

/** The source still opens with its key, passes integrity_check, holds what it held, and its chain verifies. */
async function expectSourceIntact(vault: Vault, id: string, before: Record<string, unknown[][]>): Promise<void> {
  await vault.unlock(TEST_PASSPHRASE);
  const t = vault.openSession().open(id);
  expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
  expectSameContent(before, dumpTables(t.db), expect);
  expect(verifyAudit(t)).toMatchObject({ ok: true });
  vault.lock();
}

// Each trial starts a process (tsx, unlock): on a busy two-core machine 20 of them take minutes.
describe('a process killed during a lifecycle operation', { timeout: 600_000 }, () => {
  it(`export: the source is untouched and the bundle is whole or absent (${TRIALS} kills)`, async () => {
    const { vault, id, before } = await sourceTenant();
    const outDir = tempDir();
    const check = await freshVault();
    let midway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const out = path.join(outDir, `trial-${trial}`);
      fs.mkdirSync(out);
      const run = await killDuring('export', vault.paths.dataDir, id, out, 600);
      const n = inFlight(run);
      if (n !== null) midway++;
      await expectSourceIntact(vault, id, before);
      // The bundle in flight is absent (or, if the kill came after its rename, whole).
      const pending = n === null ? null : path.join(out, `bundle-${n}`);
      const whole = fs
        .readdirSync(out)
        .filter((f) => !f.startsWith('.'))
        .map((f) => path.join(out, f));
      // The last bundle written (or the one in flight, if its rename landed) must import whole.
      const newest = whole.sort((x, y) => Number(x.split('-').at(-1)) - Number(y.split('-').at(-1))).slice(-1);
      for (const bundle of newest) {
        const r = await check.importTenant(bundle, EXPORT_PASS, { rename: `check ${trial} ${path.basename(bundle)}` });
        expect(dumpTables(check.openSession().open(r.tenantId).db).chunks).toEqual(before.chunks);
      }
      if (pending && fs.existsSync(pending)) expect(whole).toContain(pending);
    }
    expect(midway).toBeGreaterThanOrEqual(TRIALS * 0.75);
    check.lock();
  });

  it(`import: no half-imported tenant; every imported tenant is whole and verifies (${TRIALS} kills)`, async () => {
    const { vault, id, before } = await sourceTenant();
    await vault.unlock(TEST_PASSPHRASE);
    const bundle = path.join(tempDir(), 'acme.bundle');
    await vault.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
    vault.lock();
    const target = await freshVault();
    target.lock();
    const bundleBytes = fs.readFileSync(bundle);
    // Tenants already checked stay as they were (a kill touches only the import in flight).
    const checked = new Set<string>();
    let midway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const run = await killDuring('import', target.paths.dataDir, '-', bundle, 500);
      if (inFlight(run) !== null) midway++;
      expect(fs.readFileSync(bundle).equals(bundleBytes)).toBe(true);
      await target.unlock(TEST_PASSPHRASE);
      for (const t of target.listTenants().filter((x) => !checked.has(x.id))) {
        checked.add(t.id);
        const h = target.openSession().open(t.id);
        expect(h.db.pragma('integrity_check', { simple: true })).toBe('ok');
        const tables = dumpTables(h.db);
        expectSameContent({ ...before, tenant_meta: [] }, { ...tables, tenant_meta: [] }, expect);
        expect(verifyAudit(h)).toMatchObject({ ok: true });
      }
      target.lock();
    }
    expect(midway).toBeGreaterThanOrEqual(TRIALS * 0.75);
    // After all that, an import still goes through.
    await target.unlock(TEST_PASSPHRASE);
    await target.importTenant(bundle, EXPORT_PASS, { rename: 'after the kills' });
    target.lock();
    await expectSourceIntact(vault, id, before);
  });

  it(`rekey: the tenant opens with the old or the new key and loses nothing (${TRIALS} kills)`, async () => {
    const { vault, id, before } = await sourceTenant();
    let midway = 0;
    const versions = new Set<number>();
    for (let trial = 0; trial < TRIALS; trial++) {
      const run = await killDuring('rekey', vault.paths.dataDir, id, '-', 400);
      if (inFlight(run) !== null) midway++;
      await expectSourceIntact(vault, id, before);
      await vault.unlock(TEST_PASSPHRASE);
      versions.add(vault.getTenant(id).keyVersion);
      vault.lock();
    }
    expect(midway).toBeGreaterThanOrEqual(TRIALS * 0.75);
    expect(versions.size).toBeGreaterThan(1);
  });

  it(`backup: the vault is untouched and each backup folder is whole or absent (${TRIALS} kills)`, async () => {
    const { vault, id, before } = await sourceTenant();
    const outDir = tempDir();
    let midway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const out = path.join(outDir, `trial-${trial}`);
      fs.mkdirSync(out);
      const run = await killDuring('backup', vault.paths.dataDir, id, out, 300);
      if (inFlight(run) !== null) midway++;
      await expectSourceIntact(vault, id, before);
      for (const backup of fs.readdirSync(out).filter((f) => !f.startsWith('.'))) {
        const restored = path.join(tempDir(), 'restored');
        await restoreBackup(path.join(out, backup), restored);
        const v = new Vault(restored);
        await v.unlock(TEST_PASSPHRASE);
        expect(v.listTenants().map((t) => t.name)).toEqual(['Acme', 'Globex']);
        expectSameContent(before, tenantTables(v, id), expect);
        v.lock();
      }
    }
    expect(midway).toBeGreaterThanOrEqual(TRIALS * 0.75);
  });
});
