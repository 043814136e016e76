import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir, resolveDataDir, VaultPaths } from '../../../src-main/vault/paths.js';

describe('data folder', () => {
  it('defaults to where Electron puts userData on each platform', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/x/config' }, 'linux')).toBe('/x/config/Bulkhead');
    expect(defaultDataDir({}, 'linux')).toMatch(/\.config[/\\]Bulkhead$/);
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library[/\\]Application Support[/\\]Bulkhead$/);
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toMatch(/Roaming[/\\]Bulkhead$/);
  });

  it('--data-dir wins over BULKHEAD_DATA_DIR, which wins over the default', () => {
    expect(resolveDataDir('/from/flag', { BULKHEAD_DATA_DIR: '/from/env' })).toBe('/from/flag');
    expect(resolveDataDir(undefined, { BULKHEAD_DATA_DIR: '/from/env' })).toBe('/from/env');
    expect(resolveDataDir(undefined, { XDG_CONFIG_HOME: '/cfg' })).toBe(path.resolve('/cfg/Bulkhead'));
  });

  it('builds tenant paths from a valid random id only, inside the tenants folder', () => {
    const p = new VaultPaths('/data');
    expect(p.tenantFile('t_abcdefghijklmnopqrstuvwxyz')).toBe('/data/tenants/t_abcdefghijklmnopqrstuvwxyz.bulkhead');
    for (const bad of ['../keyring', 't_../../etc/passwd', 'Acme Corp', '', 't_ABCDEFGHIJKLMNOPQRSTUVWXYZ', 't_abcdefghijklmnopqrstuvwxy/']) {
      expect(() => p.tenantFile(bad)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
    }
  });
});
