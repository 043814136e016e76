import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lookalikeKey } from '../../../src-main/vault/names.js';
import { freshVault } from '../../helpers/vault.js';

describe('tenant names that could pass for another', () => {
  it.each([
    ['a zero-width space', 'Acme\u200b Corp'],
    ['a zero-width joiner', 'Ac\u200dme Corp'],
    ['a soft hyphen', 'Ac\u00adme Corp'],
    ['full-width letters', 'Ａｃｍｅ Corp'],
    ['a doubled space', 'Acme  Corp'],
    ['rn for m', 'Acrne Corp'],
  ])('with %s, a look-alike of "Acme Corp" is NAME_TAKEN, and nothing is stored', async (_what, twin) => {
    const vault = await freshVault();
    vault.createTenant('Acme Corp');
    const before = fs.readdirSync(vault.paths.tenants);
    expect(() => vault.createTenant(twin)).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    expect(fs.readdirSync(vault.paths.tenants)).toEqual(before);
    expect(vault.listTenants().map((t) => t.name)).toEqual(['Acme Corp']);
    vault.lock();
  });

  it('a Cyrillic А among Latin letters is refused as mixed-script, and is a look-alike of the Latin name', async () => {
    const vault = await freshVault();
    expect(() => vault.createTenant('\u0410cme Corp')).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', message: expect.stringMatching(/mix scripts/) }),
    );
    expect(lookalikeKey('\u0410cme Corp')).toBe(lookalikeKey('Acme Corp'));
    vault.lock();
  });

  it('line and paragraph separators are refused', async () => {
    const vault = await freshVault();
    for (const name of ['Line\u2028Sep', 'Para\u2029Sep']) {
      expect(() => vault.createTenant(name)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    }
    expect(vault.listTenants()).toEqual([]);
    vault.lock();
  });

  it('renaming into a look-alike of another tenant is refused; renaming a tenant to a variant of its own name is not', async () => {
    const vault = await freshVault();
    vault.createTenant('Acme Corp');
    const beta = vault.createTenant('Beta');
    expect(() => vault.renameTenant(beta.id, 'Acme\u200b Corp')).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    expect(vault.renameTenant(beta.id, 'BETA').name).toBe('BETA');
    vault.lock();
  });

  it('names in one script, or Latin with Han and kana, distinct to the eye, are all accepted', async () => {
    const vault = await freshVault();
    for (const name of ['Acme Corp', 'Müller GmbH', 'Café Noir', 'Cafe Noir', '東京 Tokyo', 'Ελληνικά ΑΕ', 'Москва ООО', 'Acme Corp 2'])
      vault.createTenant(name);
    expect(vault.listTenants()).toHaveLength(8);
    vault.lock();
  });
});
