import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAudit, listAudit } from '../../../src-main/vault/audit-chain.js';
import { tenantDataKey } from '../../../src-main/vault/handle.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { expectSameContent, populateTenant, tenantTables } from '../../helpers/lifecycle.js';
import { freshVault, hashTree, TEST_PASSPHRASE } from '../../helpers/vault.js';

describe('key rotation', () => {
  it('re-encrypts the tenant under a new key: same content, new key version, chain intact, old key useless', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    const other = vault.createTenant('Globex');
    await populateTenant(vault, id, 'canary-rekey-1');
    const before = tenantTables(vault, id);
    const oldKey = Buffer.from(tenantDataKey(vault.openSession().open(id)));
    const fileBefore = fs.readFileSync(vault.paths.tenantFile(id));
    const otherBefore = tenantTables(vault, other.id);

    expect(vault.rekeyTenant(id)).toEqual({ tenantId: id, fromVersion: 1, toVersion: 2 });
    expect(vault.getTenant(id).keyVersion).toBe(2);
    expect(fs.existsSync(`${vault.paths.tenantFile(id)}.newkey`)).toBe(false);
    const t = vault.openSession().open(id);
    const newKey = tenantDataKey(t);
    expect(newKey.equals(oldKey)).toBe(false);
    expect(t.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expectSameContent(before, tenantTables(vault, id), expect);
    expect(verifyAudit(t)).toMatchObject({ ok: true });
    expect(listAudit(t).some((r) => r.kind === 'key.rotate' && r.data.toVersion === 2)).toBe(true);
    // Every page was rewritten under the new key.
    const fileAfter = fs.readFileSync(vault.paths.tenantFile(id));
    let samePages = 0;
    for (let p = 4096; p + 4096 <= Math.min(fileBefore.length, fileAfter.length); p += 4096) {
      if (fileBefore.subarray(p, p + 4096).equals(fileAfter.subarray(p, p + 4096))) samePages++;
    }
    expect(samePages).toBe(0);
    expectSameContent(otherBefore, tenantTables(vault, other.id), expect);
    vault.lock();

    const again = new Vault(vault.paths.dataDir);
    await again.unlock(TEST_PASSPHRASE);
    expect(verifyAudit(again.openSession().open(id))).toMatchObject({ ok: true });
    again.lock();
  });

  it('refuses while another connection holds the file, and leaves it opening with the old key', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    await populateTenant(vault, id, 'canary-rekey-2', 1);
    const other = new Vault(vault.paths.dataDir);
    await other.unlock(TEST_PASSPHRASE);
    const held = other.openSession().open(id);
    expect(() => vault.rekeyTenant(id)).toThrow(expect.objectContaining({ code: 'TENANT_BUSY' }));
    expect(held.db.prepare('SELECT count(*) FROM documents').pluck().get()).toBe(1);
    other.lock();
    expect(vault.getTenant(id).keyVersion).toBe(1);
    expect(verifyAudit(vault.openSession().open(id))).toMatchObject({ ok: true });
    vault.lock();
  });
});

describe('passphrase change', () => {
  it('re-wraps the master key: only keyring.json changes; the old passphrase no longer unlocks', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    await populateTenant(vault, id, 'canary-pass', 1);
    vault.lock();
    const before = hashTree(vault.paths.dataDir);
    await vault.unlock(TEST_PASSPHRASE);
    await vault.changePassphrase('a brand new passphrase');
    vault.lock();
    const after = hashTree(vault.paths.dataDir);
    for (const [file, hash] of Object.entries(before)) {
      if (file === 'keyring.json') expect(after[file]).not.toBe(hash);
      // The unlock and the change are recorded in the vault audit chain, whose head the registry keeps.
      else if (file === 'registry.bulkhead' || file.startsWith('vault-audit')) continue;
      else expect(after[file], file).toBe(hash);
    }
    const again = new Vault(vault.paths.dataDir);
    await expect(again.unlock(TEST_PASSPHRASE)).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await again.unlock('a brand new passphrase');
    expect(verifyAudit(again.openSession().open(id))).toMatchObject({ ok: true });
    await expect(again.changePassphrase('short')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    again.lock();
  });
});
