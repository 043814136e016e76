import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_KDF_FACTOR, BUNDLE_MAGIC } from '../../../src-main/vault/bundle.js';
import { DEFAULT_KDF } from '../../../src-main/vault/keyring.js';
import { freshVault, hashTree, TEST_KDF, tempDir } from '../../helpers/vault.js';

const EXPORT_PASS = 'export passphrase for the client';

/** A real bundle, its header rewritten to ask for the given key-derivation cost. */
async function bundleAsking(cost: Partial<typeof DEFAULT_KDF>): Promise<string> {
  const vault = await freshVault();
  const { id } = vault.createTenant('Acme Corp');
  const bundle = path.join(tempDir(), 'acme.bulkhead-export');
  await vault.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
  vault.lock();
  const bytes = fs.readFileSync(bundle);
  const at = BUNDLE_MAGIC.length;
  const len = bytes.readUInt32BE(at);
  const header = JSON.parse(bytes.subarray(at + 4, at + 4 + len).toString('utf8'));
  header.kdf = { ...header.kdf, ...cost };
  const json = Buffer.from(JSON.stringify(header));
  const lenBuf = Buffer.alloc(4);
  lenBuf.writeUInt32BE(json.length);
  fs.writeFileSync(bundle, Buffer.concat([BUNDLE_MAGIC, lenBuf, json, bytes.subarray(at + 4 + len)]));
  return bundle;
}

describe('an import bundle cannot choose what its key derivation costs us', () => {
  it('a header asking for 4 GiB and 64 passes is BUNDLE_INVALID at once, before any derivation, and changes nothing', async () => {
    const bundle = await bundleAsking({ memoryKiB: 4 * 1024 * 1024, iterations: 64, parallelism: 16 });
    const target = await freshVault();
    const before = hashTree(target.paths.dataDir);
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    await expect(target.importTenant(bundle, EXPORT_PASS)).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringMatching(/key-derivation cost/),
    });
    // Deriving would hold 4 GiB for minutes; the refusal holds nothing and takes no time.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
    expect(hashTree(target.paths.dataDir)).toEqual(before);
  });

  it.each([
    ['memory', { memoryKiB: BUNDLE_KDF_FACTOR * DEFAULT_KDF.memoryKiB + 1024 }],
    ['passes', { iterations: BUNDLE_KDF_FACTOR * DEFAULT_KDF.iterations + 1 }],
    ['lanes', { parallelism: BUNDLE_KDF_FACTOR * DEFAULT_KDF.parallelism + 1 }],
  ])('just above the cap in %s is refused too', async (_what, cost) => {
    const target = await freshVault();
    await expect(target.importTenant(await bundleAsking(cost), EXPORT_PASS)).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  });

  it('a bundle at the default cost (what every export writes) is still derived: the passphrase is what decides', async () => {
    // Within the cap the header is honoured; the altered header then fails its authentication.
    const target = await freshVault();
    await expect(target.importTenant(await bundleAsking({ iterations: 2 }), EXPORT_PASS)).rejects.toMatchObject({
      code: expect.stringMatching(/WRONG_PASSPHRASE|BUNDLE_INVALID/),
    });
    await expect(target.importTenant(await bundleAsking({}), EXPORT_PASS)).resolves.toMatchObject({ name: 'Acme Corp' });
  });
});
