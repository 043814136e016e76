import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeCall } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { processesWith, stdioConnector, until } from '../../helpers/connectors.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

let s: ConsoleSession;
const ids: Record<string, string> = {};
const marker = `api-marker-${Date.now()}`;

beforeAll(async () => {
  s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
  await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
  for (const name of ['Acme', 'Birch']) ids[name] = ((await invokeCall(s, 'tenants.create', { name })) as { value: { id: string } }).value.id;
});
afterAll(() => s.dispose());

const value = <T>(r: unknown): T => {
  expect(r).toMatchObject({ ok: true });
  return (r as { value: T }).value;
};

describe('connectors through the api', () => {
  it('add, test, allow, list: the open client only, credential names but never values', async () => {
    await invokeCall(s, 'tenants.open', { tenantId: ids.Acme });
    const input = stdioConnector('crm', 'benign.mjs', { CONNECTOR_TOKEN: 'api-secret-value' });
    (input.target as { args: string[] }).args.push(marker);
    const added = value<{ id: string; envNames: string[] }>(await invokeCall(s, 'connectors.add', input));
    expect(added.envNames).toEqual(['CONNECTOR_TOKEN']);
    const tested = value<{ ok: boolean; detail: string }>(await invokeCall(s, 'connectors.test', { connectorId: added.id }));
    expect(tested).toMatchObject({ ok: true });
    expect(tested.detail).toMatch(/sandbox: bwrap\); 3 tools, 3 off/);
    value(await invokeCall(s, 'connectors.setTool', { connectorId: added.id, tool: 'whoami', allowed: true }));
    const list = await invokeCall(s, 'connectors.list', {});
    expect(JSON.stringify(list)).not.toContain('api-secret-value');
    expect(value<{ connectors: { tools: { name: string; allowed: boolean }[] }[] }>(list).connectors[0]!.tools.find((t) => t.name === 'whoami')!.allowed).toBe(
      true,
    );
    expect(await invokeCall(s, 'connectors.unlock', {})).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    expect(await invokeCall(s, 'connectors.remove', { connectorId: 'c_0000000000000000' })).toMatchObject({
      ok: false,
      error: { code: 'CONNECTOR_NOT_FOUND' },
    });
    await invokeCall(s, 'tenants.open', { tenantId: ids.Birch });
    expect(value<{ connectors: unknown[] }>(await invokeCall(s, 'connectors.list', {})).connectors).toEqual([]);
    expect(await invokeCall(s, 'connectors.test', { connectorId: added.id })).toMatchObject({ ok: false, error: { code: 'CONNECTOR_NOT_FOUND' } });
    expect(await until(() => processesWith(marker).length === 0)).toBe(true);
  }, 60_000);
});
