import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../src-main/vault/audit-chain.js';
import { restoreBackup } from '../../../src-main/vault/backup.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { expectSameContent, populateTenant, tenantTables } from '../../helpers/lifecycle.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

describe('backup and restore', () => {
  it('snapshots every tenant, the registry and the keyring; restore brings them all back', async () => {
    const vault = await freshVault();
    const a = vault.createTenant('Acme');
    const b = vault.createTenant('Globex');
    await populateTenant(vault, a.id, 'canary-backup-a');
    await populateTenant(vault, b.id, 'canary-backup-b', 2);
    const beforeA = tenantTables(vault, a.id);
    const beforeB = tenantTables(vault, b.id);
    // In use: a tenant is open (with frames in its WAL) while the backup runs.
    const open = vault.openSession().open(a.id);
    open.db.prepare("INSERT INTO notes (title, body, created_at) VALUES ('late', 'in the wal', 'now')").run();
    const out = path.join(tempDir(), 'backup');
    const r = await vault.backup(out);
    expect(r).toMatchObject({ dir: out, tenants: 2, files: 4 });
    expect(fs.readdirSync(out).sort()).toEqual(['backup-manifest.json', 'keyring.json', 'registry.bulkhead', 'tenants']);
    expect(fs.readdirSync(path.join(out, 'tenants')).sort()).toEqual([`${a.id}.bulkhead`, `${b.id}.bulkhead`].sort());
    expect(fs.readdirSync(path.dirname(out))).toEqual(['backup']);
    vault.lock();

    const restoredDir = path.join(tempDir(), 'restored');
    const res = await restoreBackup(out, restoredDir);
    expect(res).toMatchObject({ dataDir: restoredDir, tenants: 2, movedAside: null });
    const restored = new Vault(restoredDir);
    await restored.unlock(TEST_PASSPHRASE);
    expect(restored.listTenants().map((t) => t.name)).toEqual(['Acme', 'Globex']);
    const ta = tenantTables(restored, a.id);
    expectSameContent(beforeA, { ...ta, notes: ta.notes!.filter((n) => n[1] !== 'late') }, expect);
    expect(ta.notes!.some((n) => n[1] === 'late')).toBe(true);
    expectSameContent(beforeB, tenantTables(restored, b.id), expect);
    for (const id of [a.id, b.id]) expect(verifyAudit(restored.openSession().open(id))).toMatchObject({ ok: true });
    restored.lock();
  });

  it('refuses a non-empty target, a damaged backup, and restoring over a vault without --force', async () => {
    const vault = await freshVault();
    vault.createTenant('Acme');
    const out = path.join(tempDir(), 'backup');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'x'), 'x');
    await expect(vault.backup(out)).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    fs.rmSync(out, { recursive: true });
    await vault.backup(out);
    vault.lock();

    await expect(restoreBackup(out, vault.paths.dataDir)).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    const damaged = path.join(tempDir(), 'damaged');
    fs.cpSync(out, damaged, { recursive: true });
    const reg = path.join(damaged, 'registry.bulkhead');
    const bytes = fs.readFileSync(reg);
    bytes[bytes.length - 100]! ^= 1;
    fs.writeFileSync(reg, bytes);
    const target = path.join(tempDir(), 'never');
    await expect(restoreBackup(damaged, target)).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    expect(fs.existsSync(target)).toBe(false);

    // --force moves the old vault aside (never deletes it) and leaves no stale -wal/-shm behind.
    fs.writeFileSync(`${vault.paths.registry}-wal`, 'stale');
    const r = await restoreBackup(out, vault.paths.dataDir, { force: true });
    expect(r.movedAside).not.toBeNull();
    expect(fs.existsSync(path.join(r.movedAside!, 'keyring.json'))).toBe(true);
    expect(fs.existsSync(`${vault.paths.registry}-wal`)).toBe(false);
    const again = new Vault(vault.paths.dataDir);
    await again.unlock(TEST_PASSPHRASE);
    expect(again.listTenants().map((t) => t.name)).toEqual(['Acme']);
    again.lock();
  });

  it('takes a consistent snapshot while another process writes to the tenant', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    vault.lock();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/child-writer.ts', vault.paths.dataDir, id, '2000'], {
      env: { ...process.env, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('commit ') && resolve()));
    await vault.unlock(TEST_PASSPHRASE);
    const out = path.join(tempDir(), 'backup');
    await vault.backup(out);
    vault.lock();
    child.kill('SIGKILL');
    const restoredDir = path.join(tempDir(), 'restored');
    await restoreBackup(out, restoredDir);
    const restored = new Vault(restoredDir);
    await restored.unlock(TEST_PASSPHRASE);
    const t = restored.openSession().open(id);
    expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const batches = t.db.prepare('SELECT title, count(*) AS n FROM notes GROUP BY title').all() as { n: number }[];
    expect(batches.length).toBeGreaterThan(0);
    for (const batch of batches) expect(batch.n).toBe(2000);
    expect(verifyAudit(t)).toMatchObject({ ok: true });
    restored.lock();
  });
});
