import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KDF, Keyring, randomKey, unwrapKey, wrapKey } from '../../../src-main/vault/keyring.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { freshVault, hashTree, TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

describe('keyring', () => {
  it('records the Argon2id parameters and a random salt, never the key', async () => {
    const file = path.join(tempDir(), 'keyring.json');
    const ring = await Keyring.create(file, TEST_PASSPHRASE, TEST_KDF);
    const body = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(body.kdf).toMatchObject({ ...TEST_KDF });
    expect(Buffer.from(body.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(body.wrappedMasterKey, 'base64')).toHaveLength(60);
    ring.destroy();
    const other = path.join(tempDir(), 'keyring.json');
    (await Keyring.create(other, TEST_PASSPHRASE, TEST_KDF)).destroy();
    expect(JSON.parse(fs.readFileSync(other, 'utf8')).kdf.salt).not.toBe(body.kdf.salt);
  });

  it('the product default is Argon2id with at least 64 MiB and 3 passes', () => {
    expect(DEFAULT_KDF.algorithm).toBe('argon2id');
    expect(DEFAULT_KDF.memoryKiB).toBeGreaterThanOrEqual(65536);
    expect(DEFAULT_KDF.iterations).toBeGreaterThanOrEqual(3);
  });

  it('a wrapped key only unwraps with the same key and the same additional data', () => {
    const kek = randomKey();
    const key = randomKey();
    const wrapped = wrapKey(kek, key, 'bulkhead/tenant-key/v1/t_a/1');
    expect(unwrapKey(kek, wrapped, 'bulkhead/tenant-key/v1/t_a/1')?.equals(key)).toBe(true);
    expect(unwrapKey(kek, wrapped, 'bulkhead/tenant-key/v1/t_b/1')).toBeNull();
    expect(unwrapKey(kek, wrapped, 'bulkhead/tenant-key/v1/t_a/2')).toBeNull();
    expect(unwrapKey(randomKey(), wrapped, 'bulkhead/tenant-key/v1/t_a/1')).toBeNull();
    const flipped = Buffer.from(wrapped);
    flipped[40]! ^= 1;
    expect(unwrapKey(kek, flipped, 'bulkhead/tenant-key/v1/t_a/1')).toBeNull();
  });

  it("a tenant's wrapped key copied into another tenant's slot fails authentication", async () => {
    const vault = await freshVault();
    const a = vault.createTenant('A');
    const b = vault.createTenant('B');
    vault.lock();
    // Swap the wrapped keys in the registry, as an attacker with write access could.
    const Database = (await import('better-sqlite3-multiple-ciphers')).default;
    const ring = await Keyring.unlock(vault.paths.keyring, TEST_PASSPHRASE);
    const regKey = ring.registryKey();
    ring.destroy();
    const db = new Database(vault.paths.registry);
    db.pragma(`cipher='sqlcipher'`);
    db.pragma('legacy=4');
    db.pragma(`key="x'${regKey.toString('hex')}'"`);
    const wa = db.prepare('SELECT wrapped_key FROM tenants WHERE id = ?').pluck().get(a.id) as Buffer;
    db.prepare('UPDATE tenants SET wrapped_key = ? WHERE id = ?').run(wa, b.id);
    db.close();
    await vault.unlock(TEST_PASSPHRASE);
    expect(() => vault.openSession().open(b.id)).toThrow(expect.objectContaining({ code: 'TENANT_KEY_REJECTED' }));
    expect(vault.openSession().open(a.id).isOpen).toBe(true);
    vault.lock();
  });

  it('a wrong passphrase is refused and changes no byte on disk', async () => {
    const dir = tempDir();
    const vault = await freshVault(dir);
    const a = vault.createTenant('Acme');
    vault.createTenant('Globex');
    vault.openSession().open(a.id).db.exec("INSERT INTO notes (title, body, created_at) VALUES ('t', 'b', 'now')");
    vault.lock();
    const before = hashTree(dir);
    expect(Object.keys(before)).toHaveLength(5); // keyring, registry, the vault audit chain, two tenants
    const again = new Vault(dir);
    await expect(again.unlock('not the passphrase')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(again.unlock('')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(again.state).toBe('locked');
    expect(() => again.listTenants()).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    // The failed unlocks wait, as ids and codes, for the next unlock to sign them into the vault chain.
    const { 'vault-audit.pending.jsonl': pending, ...rest } = hashTree(dir);
    expect(pending).toBeDefined();
    expect(fs.readFileSync(path.join(dir, 'vault-audit.pending.jsonl'), 'utf8')).not.toContain('not the passphrase');
    expect({ ...rest }).toEqual(before);
  });

  it('a damaged keyring is reported as such, not as a wrong passphrase', async () => {
    const dir = tempDir();
    (await freshVault(dir)).lock();
    const file = path.join(dir, 'keyring.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 50));
    await expect(new Vault(dir).unlock(TEST_PASSPHRASE)).rejects.toMatchObject({ code: 'KEYRING_CORRUPT' });
    fs.writeFileSync(file, JSON.stringify({ format: 'bulkhead-keyring', version: 1, kdf: { algorithm: 'argon2id', memoryKiB: 1 } }));
    await expect(new Vault(dir).unlock(TEST_PASSPHRASE)).rejects.toMatchObject({ code: 'KEYRING_CORRUPT' });
  });
});
