import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../../src-main/vault/vault.js';
import { populateTenant } from '../../helpers/lifecycle.js';
import { freshVault, TEST_PASSPHRASE } from '../../helpers/vault.js';

describe('offboarding (tenant delete)', () => {
  it('destroys the wrapped key first: when removing the files fails, what is left can no longer be opened', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    await populateTenant(vault, id, 'canary-offboard', 1);
    const file = vault.paths.tenantFile(id);
    // A directory where SQLite's journal would be: unlink fails on it, even for root.
    fs.mkdirSync(`${file}-journal`);
    expect(() => vault.deleteTenant(id)).toThrow();
    expect(vault.listTenants()).toEqual([]);
    expect(() => vault.openSession().open(id)).toThrow(expect.objectContaining({ code: 'TENANT_NOT_FOUND' }));
    expect(fs.existsSync(`${file}-journal`), 'removing the files stopped midway').toBe(true);
    vault.lock();
    const again = new Vault(vault.paths.dataDir);
    await again.unlock(TEST_PASSPHRASE);
    expect(() => again.openSession().open(id)).toThrow(expect.objectContaining({ code: 'TENANT_NOT_FOUND' }));
    again.lock();
  });

  it('the receipt names the tenant id, the time, the files removed and the key destroyed; a pending rotation key goes too', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    await populateTenant(vault, id, 'canary-offboard-2', 1);
    const held = vault.openSession().open(id);
    held.db.prepare("INSERT INTO notes (title, body, created_at) VALUES ('x', 'y', 'z')").run();
    const file = vault.paths.tenantFile(id);
    fs.writeFileSync(`${file}.newkey`, '{"keyVersion":2,"wrappedKey":"AAAA"}');
    const before = Date.now();
    const r = vault.deleteTenant(id);
    expect(r.tenantId).toBe(id);
    expect(r.keyDestroyed).toBe(true);
    expect(Date.parse(r.deletedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(r.filesRemoved).toContain(`${id}.bulkhead`);
    expect(held.isOpen).toBe(false);
    expect(fs.readdirSync(vault.paths.tenants)).toEqual([]);
    vault.lock();
  });
});
