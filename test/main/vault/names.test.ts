import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freshVault, filesUnder } from '../../helpers/vault.js';

describe('tenant display names', () => {
  const refused: Array<[string, unknown]> = [
    ['empty', ''],
    ['only spaces', '   \t '],
    ['10,000 characters', 'x'.repeat(10_000)],
    ['a NUL byte', 'Acme\u0000Corp'],
    ['a newline', 'Acme\nCorp'],
    ['an escape sequence', 'Acme\u001b[31mCorp'],
    ['a right-to-left override', 'Acme\u202Egnp.exe'],
    ['a number', 42],
    ['nothing', undefined],
  ];

  it.each(refused)('refuses a name with %s, with a message, and stores nothing', async (_label, name) => {
    const vault = await freshVault();
    const before = fs.readdirSync(vault.paths.tenants);
    let error: unknown;
    try {
      vault.createTenant(name);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(/name/) });
    expect(fs.readdirSync(vault.paths.tenants)).toEqual(before);
    expect(vault.listTenants()).toEqual([]);
    vault.lock();
  });

  const stored = ['AC/DC', '..', '../../etc/passwd', 'C:\\Windows\\system32', 'Café Zoë', '東京デザイン', 'O\'Brien & Sons "Ltd"', '  padded  '];

  it('stores names with separators, dots, quotes and any script as text, never in a path', async () => {
    const vault = await freshVault();
    for (const name of stored) vault.createTenant(name);
    expect(
      vault
        .listTenants()
        .map((t) => t.name)
        .sort(),
    ).toEqual(stored.map((n) => n.trim()).sort());
    const files = filesUnder(vault.paths.dataDir);
    expect(files.filter((f) => f.startsWith('tenants/'))).toHaveLength(stored.length);
    for (const f of files)
      expect(f).toMatch(/^(keyring\.json|registry\.bulkhead(-wal|-shm)?|vault-audit(\.pending)?\.jsonl|tenants\/t_[a-z2-7]{26}\.bulkhead)$/);
    vault.lock();
  });

  it('refuses a duplicate name, ignoring case, width and surrounding space', async () => {
    const vault = await freshVault();
    vault.createTenant('Acme');
    for (const dup of ['Acme', 'ACME', ' acme ', 'Ａｃｍｅ']) {
      expect(() => vault.createTenant(dup)).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    }
    expect(vault.listTenants()).toHaveLength(1);
    expect(fs.readdirSync(vault.paths.tenants)).toHaveLength(1);
    vault.lock();
  });
});
