// Tenant-scoped credentials: the chat model endpoint, model name and API key belong to a tenant.
// A real OpenAI-compatible server on loopback records every request's Authorization header: when
// tenant B chats, tenant A's key is never sent (on the code before this, the one vault-wide key
// set from A's Settings served every client).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invokeCall, invokeStream } from '../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../src-main/api/session.js';
import { startModelServer, type ModelServer } from '../helpers/model-server.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const KEY_A = 'sk-acme-AAAAAAAAAAAAAAAA';
const KEY_B = 'sk-beta-BBBBBBBBBBBBBBBB';

let server: ModelServer;
let s: ConsoleSession;
const ids: Record<string, string> = {};

beforeAll(async () => {
  server = await startModelServer(() => ({ kind: 'text', text: 'An answer.' }));
  s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
  await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
  for (const name of ['Acme', 'Beta', 'Gamma']) ids[name] = ((await invokeCall(s, 'tenants.create', { name })) as { value: { id: string } }).value.id;
});
afterAll(async () => {
  s.dispose();
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

async function open(name: string): Promise<void> {
  expect(await invokeCall(s, 'tenants.open', { tenantId: ids[name]! })).toMatchObject({ ok: true });
}

async function ask(): Promise<{ mode: string; model: unknown }> {
  const r = (await invokeStream(s, 'chat.ask', { question: 'What is the budget?' }, () => undefined, new AbortController().signal)) as {
    ok: boolean;
    value: { mode: string; model: unknown };
  };
  expect(r.ok).toBe(true);
  return r.value;
}

const authorizations = (): (string | undefined)[] => server.requests.filter((r) => r.url.endsWith('/chat/completions')).map((r) => r.headers.authorization);

describe('chat model credentials are per tenant', () => {
  it("tenant A's key is sent for A only; B sends its own key; a tenant without a model sends nothing", async () => {
    await open('Acme');
    expect(await invokeCall(s, 'settings.setModel', { model: { baseUrl: server.baseUrl, name: 'acme-model', apiKey: KEY_A, localOnly: true } })).toMatchObject({
      ok: true,
      value: { model: { baseUrl: server.baseUrl, name: 'acme-model', hasApiKey: true, localOnly: true } },
    });
    expect(await ask()).toMatchObject({ mode: 'generated', model: { name: 'acme-model' } });
    expect(authorizations()).toEqual([`Bearer ${KEY_A}`]);

    // Beta has no model of its own: Acme's settings do not serve it, nothing is sent.
    await open('Beta');
    expect(await invokeCall(s, 'settings.get', {})).toMatchObject({ ok: true, value: { model: { baseUrl: null, name: null, hasApiKey: false } } });
    server.requests.length = 0;
    expect(await ask()).toMatchObject({ mode: 'retrieval-only', model: null });
    expect(server.requests).toHaveLength(0);

    // Beta's own endpoint (the same server) with its own key: Acme's key never appears.
    await invokeCall(s, 'settings.setModel', { model: { baseUrl: server.baseUrl, name: 'beta-model', apiKey: KEY_B, localOnly: false } });
    await ask();
    // Gamma: the same endpoint with no key at all: no Authorization header, not Acme's or Beta's.
    await open('Gamma');
    await invokeCall(s, 'settings.setModel', { model: { baseUrl: server.baseUrl, name: 'gamma-model', localOnly: false } });
    await ask();
    expect(authorizations()).toEqual([`Bearer ${KEY_B}`, undefined]);
    expect(server.requests.every((r) => !r.raw.includes(KEY_A) && r.headers.authorization !== `Bearer ${KEY_A}`)).toBe(true);

    // And Acme still uses its own.
    await open('Acme');
    server.requests.length = 0;
    await ask();
    expect(authorizations()).toEqual([`Bearer ${KEY_A}`]);
  });

  it('the connection test goes through the open tenant only, with its key', async () => {
    await open('Beta');
    server.requests.length = 0;
    expect(await invokeCall(s, 'settings.testModel', {})).toMatchObject({ ok: true, value: { ok: true } });
    const list = server.requests.filter((r) => r.url.endsWith('/models'));
    expect(list.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY_B}`]);
  });

  it('under local-only, an outside endpoint is refused at set time and nothing is stored', async () => {
    await open('Gamma');
    const refused = await invokeCall(s, 'settings.setModel', {
      model: { baseUrl: 'http://10.9.8.7:8080/v1', name: 'x', apiKey: 'sk-zzzzzzzzzzzz', localOnly: true },
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_ALLOWED' } });
    expect(await invokeCall(s, 'settings.get', {})).toMatchObject({
      ok: true,
      value: { model: { baseUrl: server.baseUrl, name: 'gamma-model', localOnly: false } },
    });
  });
});
