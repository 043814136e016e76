import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY_PURPOSE, maskSecret, modelDefaults, setConfigValue, showConfig, unsetConfigValue } from '../../../src-main/agent/model-config.js';
import { migrateTenantModel, prefillNewTenant, readTenantEndpoint, setTenantModel, tenantModelFor } from '../../../src-main/agent/tenant-model.js';
import { writeAgentPolicy } from '../../../src-main/egress/policy.js';
import { freshVault } from '../../helpers/vault.js';

const ENV = ['BULKHEAD_MODEL_BASE_URL', 'BULKHEAD_MODEL', 'BULKHEAD_MODEL_API_KEY'] as const;
afterEach(() => {
  for (const k of ENV) delete process.env[k];
});

describe('vault-wide model defaults', () => {
  it('prefill a new tenant (endpoint and model, never a key) and serve no tenant', async () => {
    const vault = await freshVault();
    const before = vault.createTenant('Before');
    setConfigValue(vault, 'model.baseUrl', 'http://127.0.0.1:11434/v1');
    setConfigValue(vault, 'model.name', 'llama3.2');
    expect(() => setConfigValue(vault, 'model.apiKey', 'sk-live-abcdefghijklmnop')).toThrow(/belongs to one tenant/);
    const file = path.join(vault.paths.dataDir, 'model.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(showConfig(vault)).toMatchObject({ 'model.baseUrl': 'http://127.0.0.1:11434/v1', 'model.name': 'llama3.2', migrationPending: 0 });

    const after = vault.createTenant('After');
    const session = vault.openSession();
    prefillNewTenant(vault, session.open(after.id));
    expect(readTenantEndpoint(session.open(after.id))).toEqual({ baseUrl: 'http://127.0.0.1:11434/v1', name: 'llama3.2' });
    // A tenant that existed before gets nothing from the defaults: they prefill, they never serve.
    expect(tenantModelFor(vault, session.open(before.id))).toBeNull();
    session.dispose();
    vault.lock();
  });

  it('refuses bad values with a message naming the setting, and leaves the file as it was', async () => {
    const vault = await freshVault();
    setConfigValue(vault, 'model.baseUrl', 'http://127.0.0.1:8080/v1');
    const file = path.join(vault.paths.dataDir, 'model.json');
    const before = fs.readFileSync(file, 'utf8');
    expect(() => setConfigValue(vault, 'model.baseUrl', 'ftp://x')).toThrow(/model\.baseUrl must be an http\(s\) URL/);
    expect(() => setConfigValue(vault, 'model.name', '   ')).toThrow(/model\.name cannot be empty/);
    expect(() => setConfigValue(vault, 'model.contextTokens', '12')).toThrow(/at least 1024/);
    expect(() => setConfigValue(vault, 'model.tenant', 'x')).toThrow(/unknown setting "model\.tenant"/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    unsetConfigValue(vault, 'model.baseUrl');
    expect(showConfig(vault)['model.baseUrl']).toBeNull();
    vault.lock();
  });

  it('the environment overrides the defaults only', async () => {
    const vault = await freshVault();
    setConfigValue(vault, 'model.baseUrl', 'http://127.0.0.1:8080/v1');
    setConfigValue(vault, 'model.name', 'file-model');
    process.env.BULKHEAD_MODEL = 'env-model';
    expect(modelDefaults(vault)).toMatchObject({ name: 'env-model', baseUrl: 'http://127.0.0.1:8080/v1' });
    expect(showConfig(vault)).toMatchObject({ 'model.name': 'env-model', fromEnvironment: ['model.name'] });
    const t = vault.openSession().open(vault.createTenant('T').id);
    process.env.BULKHEAD_MODEL_API_KEY = 'env-key-123456789';
    expect(tenantModelFor(vault, t)).toBeNull();
    process.env.BULKHEAD_MODEL_BASE_URL = 'nonsense';
    expect(() => modelDefaults(vault)).toThrow(/model\.baseUrl/);
    vault.lock();
  });
});

describe("a tenant's own chat model", () => {
  it('is stored in its file: a kept key stays with its endpoint only; the policy refuses an outside endpoint', async () => {
    const vault = await freshVault();
    const t = vault.openSession().open(vault.createTenant('Acme').id);
    const key = 'sk-acme-0123456789abcdef';
    await setTenantModel(t, { baseUrl: 'http://127.0.0.1:8080/v1', name: 'm', apiKey: key });
    expect(tenantModelFor(vault, t)).toMatchObject({ baseUrl: 'http://127.0.0.1:8080/v1', apiKey: key });
    await setTenantModel(t, { baseUrl: 'http://127.0.0.1:8080/v1', name: 'm2' });
    expect(readTenantEndpoint(t)?.apiKey).toBe(key);
    // Another host does not inherit the key unasked.
    await setTenantModel(t, { baseUrl: 'http://127.0.0.2:9090/v1', name: 'm2' });
    expect(readTenantEndpoint(t)?.apiKey).toBeUndefined();
    expect(maskSecret(key)).toBe('sk-…cdef');
    writeAgentPolicy(t, { localModelsOnly: true });
    await expect(setTenantModel(t, { baseUrl: 'http://10.1.2.3:8080/v1', name: 'm' })).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
    expect(readTenantEndpoint(t)?.baseUrl).toBe('http://127.0.0.2:9090/v1');
    await expect(setTenantModel(t, { baseUrl: 'http://127.0.0.1:8080/v1', name: 'm', apiKey: 'bad key\n' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    // No file outside the tenant holds the key.
    for (const f of fs.readdirSync(vault.paths.dataDir, { recursive: true, encoding: 'utf8' })) {
      const p = path.join(vault.paths.dataDir, f);
      if (fs.statSync(p).isFile()) expect(fs.readFileSync(p).includes(Buffer.from(key)), f).toBe(false);
    }
    vault.lock();
  });
});

describe('migration of the version-1 vault-wide settings', () => {
  it('copies them once into each tenant that existed, key included; later tenants never get the key; the key then leaves model.json', async () => {
    const vault = await freshVault();
    const a = vault.createTenant('Old A');
    const b = vault.createTenant('Old B');
    const key = 'sk-legacy-0000000000';
    // A version-1 file as the previous release wrote it: one endpoint for all, its key sealed with the vault key.
    const file = path.join(vault.paths.dataDir, 'model.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ baseUrl: 'http://127.0.0.1:8080/v1', name: 'shared', apiKeySealed: vault.sealAppSecret(API_KEY_PURPOSE, key), contextTokens: 4096 }),
      { mode: 0o600 },
    );

    const session = vault.openSession();
    const ta = session.open(a.id);
    migrateTenantModel(vault, ta);
    expect(readTenantEndpoint(ta)).toEqual({ baseUrl: 'http://127.0.0.1:8080/v1', name: 'shared', apiKey: key, contextTokens: 4096 });
    expect(showConfig(vault).migrationPending).toBe(1);

    // Created after the upgrade: the old endpoint is now a default that prefills it, never the old key.
    const c = vault.createTenant('New C');
    prefillNewTenant(vault, session.open(c.id));
    expect(tenantModelFor(vault, session.open(c.id))).toMatchObject({ baseUrl: 'http://127.0.0.1:8080/v1', name: 'shared', apiKey: null });

    // A tenant that set its own model meanwhile keeps it.
    const tb = session.open(b.id);
    await setTenantModel(tb, { baseUrl: 'http://127.0.0.1:9999/v1', name: 'own' });
    migrateTenantModel(vault, tb);
    expect(readTenantEndpoint(tb)).toEqual({ baseUrl: 'http://127.0.0.1:9999/v1', name: 'own' });
    expect(showConfig(vault).migrationPending).toBe(0);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ version: 2 });
    expect(stored.apiKeySealed).toBeUndefined();
    expect(stored.legacy).toBeUndefined();
    // Once done, opening again copies nothing more (C still has no key).
    migrateTenantModel(vault, session.open(c.id));
    expect(readTenantEndpoint(session.open(c.id))?.apiKey).toBeUndefined();
    session.dispose();
    vault.lock();
  });
});
