import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../../src-main/vault/audit-chain.js';
import { BUNDLE_MAGIC, encodeHeader, openBundle, type BundleManifest } from '../../../src-main/vault/bundle.js';
import type { KdfParams } from '../../../src-main/vault/keyring.js';
import { dumpTables, expectSameContent, populateTenant, tenantTables } from '../../helpers/lifecycle.js';
import { freshVault, hashTree, TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

const EXPORT_PASS = 'export passphrase for the client';

async function exported(): Promise<{ bundle: string; before: Record<string, unknown[][]>; id: string; name: string }> {
  const vault = await freshVault();
  const { id, name } = vault.createTenant('Acme Corp');
  await populateTenant(vault, id, 'canary-acme-5521');
  const before = tenantTables(vault, id);
  const bundle = path.join(tempDir(), 'acme.bulkhead-export');
  const r = await vault.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
  expect(r.file).toBe(bundle);
  expect(fs.statSync(bundle).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(path.dirname(bundle))).toEqual(['acme.bulkhead-export']);
  expect(listAudit(vault.openSession().open(id)).some((rec) => rec.kind === 'export')).toBe(true);
  vault.lock();
  return { bundle, before, id, name };
}

describe('export and import', () => {
  it('round trip: a fresh data dir gets the tenant back identical, and its audit chain verifies', async () => {
    const { bundle, before, id } = await exported();
    const bytes = fs.readFileSync(bundle);
    expect(bytes.subarray(0, BUNDLE_MAGIC.length).equals(BUNDLE_MAGIC)).toBe(true);
    for (const secret of ['canary-acme-5521', 'Acme Corp', 'Supply chains']) expect(bytes.includes(Buffer.from(secret))).toBe(false);

    const target = await freshVault();
    const r = await target.importTenant(bundle, EXPORT_PASS);
    expect(r).toMatchObject({ tenantId: id, name: 'Acme Corp', newId: false });
    expect(target.listTenants().map((t) => t.name)).toEqual(['Acme Corp']);
    const t = target.openSession().open(id);
    expectSameContent(before, dumpTables(t.db), expect);
    expect(dumpTables(t.db).chunks!.length).toBeGreaterThan(0);
    expect(verifyAudit(t)).toMatchObject({ ok: true });
    expect(
      listAudit(t)
        .map((a) => a.kind)
        .slice(-3),
    ).toEqual(['tenant.open', 'import', 'tenant.open']);
    expect(t.db.prepare("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'invoices'").pluck().get()).toBeGreaterThan(0);
    target.lock();
  });

  it('refuses a wrong passphrase, a taken name and an altered bundle, and changes nothing when it refuses', async () => {
    const { bundle, id } = await exported();
    const target = await freshVault();
    target.createTenant('ACME CORP');
    target.lock();
    await target.unlock(TEST_PASSPHRASE);
    // Taken once unlocked: the unlock itself is a record of the vault audit chain (head in the registry).
    const unlockedTree = (): Record<string, string> => Object.fromEntries(Object.entries(hashTree(target.paths.dataDir)).filter(([f]) => !f.endsWith('-shm')));
    const before = unlockedTree();
    await expect(target.importTenant(bundle, 'not the export passphrase')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(target.importTenant(bundle, EXPORT_PASS)).rejects.toMatchObject({ code: 'NAME_TAKEN' });

    const bytes = fs.readFileSync(bundle);
    const alteredDb = Buffer.from(bytes);
    alteredDb[alteredDb.length - 5000]! ^= 1;
    fs.writeFileSync(`${bundle}.db`, alteredDb);
    await expect(target.importTenant(`${bundle}.db`, EXPORT_PASS, { rename: 'Acme 2' })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    const cut = bytes.subarray(0, bytes.length - 4096);
    fs.writeFileSync(`${bundle}.cut`, cut);
    await expect(target.importTenant(`${bundle}.cut`, EXPORT_PASS, { rename: 'Acme 2' })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    // The sealed manifest: one flipped character of its ciphertext fails authentication.
    const text = bytes.toString('latin1');
    const at = text.indexOf('"data":"') + 20;
    const alteredManifest = Buffer.from(bytes);
    alteredManifest[at] = alteredManifest[at] === 0x41 ? 0x42 : 0x41;
    fs.writeFileSync(`${bundle}.manifest`, alteredManifest);
    await expect(target.importTenant(`${bundle}.manifest`, EXPORT_PASS, { rename: 'Acme 2' })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    fs.writeFileSync(`${bundle}.junk`, 'not a bundle');
    await expect(target.importTenant(`${bundle}.junk`, EXPORT_PASS)).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });

    expect(unlockedTree()).toEqual(before);
    target.lock();
    await target.unlock(TEST_PASSPHRASE);
    const r = await target.importTenant(bundle, EXPORT_PASS, { rename: 'Acme (imported)' });
    expect(r).toMatchObject({ tenantId: id, name: 'Acme (imported)' });
    target.lock();
  });

  it('refuses a correctly sealed manifest that does not match the data (a table count, the audit head)', async () => {
    const { bundle } = await exported();
    const bytes = fs.readFileSync(bundle);
    const headerLen = bytes.readUInt32BE(BUNDLE_MAGIC.length);
    const header = JSON.parse(bytes.subarray(BUNDLE_MAGIC.length + 4, BUNDLE_MAGIC.length + 4 + headerLen).toString('utf8')) as { kdf: KdfParams };
    const db = bytes.subarray(BUNDLE_MAGIC.length + 4 + headerLen);
    const reseal = async (edit: (m: BundleManifest) => void): Promise<string> => {
      const opened = await openBundle(bundle, EXPORT_PASS);
      edit(opened.manifest);
      const file = `${bundle}.${Math.random().toString(36).slice(2)}`;
      fs.writeFileSync(file, Buffer.concat([encodeHeader(opened.keys, header.kdf, opened.manifest), db]));
      opened.keys.destroy();
      return file;
    };
    const target = await freshVault();
    const fewerNotes = await reseal((m) => (m.tables.notes!.rows -= 1));
    await expect(target.importTenant(fewerNotes, EXPORT_PASS)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/table notes/) });
    const shorterChain = await reseal((m) => (m.audit.head = { seq: m.audit.head!.seq - 1, hash: m.audit.head!.hash }));
    await expect(target.importTenant(shorterChain, EXPORT_PASS)).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringMatching(/audit chain/),
    });
    expect(target.listTenants()).toEqual([]);
    expect(fs.readdirSync(target.paths.tenants)).toEqual([]);
    target.lock();
  });

  it('imports back into the vault it came from under --rename, with a new id', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    await populateTenant(vault, id, 'canary-same-vault');
    const bundle = path.join(tempDir(), 'b');
    await vault.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
    const r = await vault.importTenant(bundle, EXPORT_PASS, { rename: 'Acme copy' });
    expect(r.newId).toBe(true);
    expect(r.tenantId).not.toBe(id);
    const copy = vault.openSession().open(r.tenantId);
    expect(copy.db.prepare("SELECT value FROM tenant_meta WHERE key = 'tenant_id'").pluck().get()).toBe(r.tenantId);
    expect(verifyAudit(copy)).toMatchObject({ ok: true });
    expect(dumpTables(copy.db).chunks).toEqual(tenantTables(vault, id).chunks);
    vault.lock();
  });

  it('refuses to overwrite an existing file and leaves nothing beside it', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'taken'), 'x');
    await expect(vault.exportTenant(id, path.join(dir, 'taken'), EXPORT_PASS, { kdf: TEST_KDF })).rejects.toMatchObject({ code: 'FILE_EXISTS' });
    expect(fs.readdirSync(dir)).toEqual(['taken']);
    vault.lock();
  });
});
