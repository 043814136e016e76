import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maskSecret, resolveModelConfig, setConfigValue, showConfig, unsetConfigValue } from '../../../src-main/agent/model-config.js';
import { freshVault, TEST_PASSPHRASE } from '../../helpers/vault.js';
import { Vault } from '../../../src-main/vault/vault.js';

const ENV = ['BULKHEAD_MODEL_BASE_URL', 'BULKHEAD_MODEL', 'BULKHEAD_MODEL_API_KEY'] as const;
afterEach(() => {
  for (const k of ENV) delete process.env[k];
});

describe('app model settings', () => {
  it('stores base URL and model in a 0600 file, seals the API key, and masks it when shown', async () => {
    const vault = await freshVault();
    expect(resolveModelConfig(vault)).toBeNull();
    const key = 'sk-live-abcdefghijklmnop';
    setConfigValue(vault, 'model.baseUrl', 'http://127.0.0.1:11434/v1');
    setConfigValue(vault, 'model.name', 'llama3.2');
    setConfigValue(vault, 'model.apiKey', key);
    const file = path.join(vault.paths.dataDir, 'model.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(key);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('abcdefghijklmnop');
    expect(resolveModelConfig(vault)).toMatchObject({ baseUrl: 'http://127.0.0.1:11434/v1', name: 'llama3.2', apiKey: key, contextTokens: 8192 });
    expect(showConfig(vault)['model.apiKey']).toBe(maskSecret(key));
    expect(maskSecret(key)).toBe('sk-…mnop');
    vault.lock();
    expect(showConfig(vault)['model.apiKey']).toBe('(set, sealed)');
    await vault.unlock(TEST_PASSPHRASE);
    unsetConfigValue(vault, 'model.apiKey');
    expect(resolveModelConfig(vault)?.apiKey).toBeNull();
    vault.lock();
  });

  it('refuses bad values with a message naming the setting, and leaves the file as it was', async () => {
    const vault = await freshVault();
    setConfigValue(vault, 'model.baseUrl', 'http://127.0.0.1:8080/v1');
    const file = path.join(vault.paths.dataDir, 'model.json');
    const before = fs.readFileSync(file, 'utf8');
    expect(() => setConfigValue(vault, 'model.baseUrl', 'ftp://x')).toThrow(/model\.baseUrl must be an http\(s\) URL/);
    expect(() => setConfigValue(vault, 'model.baseUrl', 'not a url')).toThrow(/model\.baseUrl/);
    expect(() => setConfigValue(vault, 'model.name', '   ')).toThrow(/model\.name cannot be empty/);
    expect(() => setConfigValue(vault, 'model.contextTokens', '12')).toThrow(/at least 1024/);
    expect(() => setConfigValue(vault, 'model.tenant', 'x')).toThrow(/unknown setting "model\.tenant"/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    vault.lock();
  });

  it('lets the environment override the file', async () => {
    const vault = await freshVault();
    setConfigValue(vault, 'model.baseUrl', 'http://127.0.0.1:8080/v1');
    setConfigValue(vault, 'model.name', 'file-model');
    process.env.BULKHEAD_MODEL = 'env-model';
    process.env.BULKHEAD_MODEL_API_KEY = 'env-key-123456789';
    expect(resolveModelConfig(vault)).toMatchObject({ name: 'env-model', apiKey: 'env-key-123456789', baseUrl: 'http://127.0.0.1:8080/v1' });
    expect(showConfig(vault)).toMatchObject({ 'model.name': 'env-model', 'model.apiKey': 'env…6789', fromEnvironment: ['model.name', 'model.apiKey'] });
    process.env.BULKHEAD_MODEL_BASE_URL = 'nonsense';
    expect(() => resolveModelConfig(vault)).toThrow(/model\.baseUrl/);
    vault.lock();
  });

  it('a sealed key copied into another vault cannot be opened there', async () => {
    const a = await freshVault();
    setConfigValue(a, 'model.baseUrl', 'http://127.0.0.1:8080/v1');
    setConfigValue(a, 'model.name', 'm');
    setConfigValue(a, 'model.apiKey', 'sk-secret-0000000000');
    const b = await freshVault();
    fs.copyFileSync(path.join(a.paths.dataDir, 'model.json'), path.join(b.paths.dataDir, 'model.json'));
    expect(() => resolveModelConfig(b)).toThrow(/cannot be opened/);
    a.lock();
    b.lock();
    // And a locked vault cannot open it at all.
    const locked = new Vault(a.paths.dataDir);
    expect(() => resolveModelConfig(locked)).toThrow(/locked/);
  });
});
