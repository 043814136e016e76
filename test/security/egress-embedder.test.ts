// Finding 2 of the outside review: "local models only" did not cover the embedder. A real
// embedding server listens on 0.0.0.0 and is addressed as http://0.0.0.0:PORT/v1 (Linux delivers
// that to this machine, so on the code before the fix every chunk and query reached it); it counts
// every request it gets. Under local-only it must get none: not when the endpoint is set, not when
// one is already stored (written straight into the tenant's settings, or brought by a bundle).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { confirmStoredEndpoints, reviewStoredEndpoints, setLocalModelsOnly } from '../../src-main/agent/endpoints.js';
import { invokeCall } from '../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../src-main/api/session.js';
import { writeAgentPolicy } from '../../src-main/egress/policy.js';
import { createEmbedder } from '../../src-main/embed/index.js';
import { readEmbedderConfig, writeEmbedderConfig } from '../../src-main/embed/settings.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { searchKnowledge } from '../../src-main/retrieval/knowledge.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import type { Vault } from '../../src-main/vault/vault.js';
import { fakeVector, sendJson, startServer, type Behaviour, type TestServer } from '../helpers/embedding-server.js';
import { TEST_KDF, TEST_PASSPHRASE, freshVault, tempDir } from '../helpers/vault.js';

const DIM = 8;
const openAiCompatible: Behaviour = (req, res) => {
  const input = (req.body as { input: string[] }).input ?? [];
  sendJson(res, 200, { data: input.map((t, index) => ({ embedding: fakeVector(t, DIM), index })) });
};

let outside: TestServer;
let remoteUrl: string;

beforeAll(async () => {
  outside = await startServer(openAiCompatible, { listen: '0.0.0.0', urlHost: '0.0.0.0' });
  remoteUrl = `${outside.baseUrl}/v1`;
});
afterAll(async () => {
  await outside.close();
});
beforeEach(() => {
  outside.requests.length = 0;
});

function docsFolder(): string {
  const dir = tempDir('bulkhead-egress-docs-');
  fs.writeFileSync(path.join(dir, 'budget.md'), '# Budget\n\nBeta Industries pilot budget: ninety thousand kroner, signed in March.\n');
  return dir;
}

describe('"local models only" covers the embedder (api)', () => {
  let s: ConsoleSession;
  beforeEach(async () => {
    s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
    await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    const id = ((await invokeCall(s, 'tenants.create', { name: 'Beta' })) as { value: { id: string } }).value.id;
    await invokeCall(s, 'tenants.open', { tenantId: id });
  });

  it('refuses a 0.0.0.0 embedder at set time with MODEL_NOT_ALLOWED and sends it nothing; with the policy off the same endpoint is used', async () => {
    writeAgentPolicy(s.current!, { localModelsOnly: true });
    const refused = await invokeCall(s, 'settings.setEmbedder', { embedder: { kind: 'openai', baseUrl: remoteUrl, model: 'm' } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_ALLOWED' } });
    expect(outside.requests).toHaveLength(0);
    expect(await invokeCall(s, 'settings.get', {})).toMatchObject({ ok: true, value: { embedder: { kind: 'hash' } } });

    // The control: the server is reachable at that address, and is used once the policy allows it.
    writeAgentPolicy(s.current!, { localModelsOnly: false });
    const allowed = await invokeCall(s, 'settings.setEmbedder', { embedder: { kind: 'openai', baseUrl: remoteUrl, model: 'm' } });
    expect(allowed).toMatchObject({ ok: true, value: { embedder: { kind: 'openai', baseUrl: remoteUrl, dimension: DIM } } });
    expect(outside.requests.length).toBeGreaterThan(0);
  });

  it('a stored endpoint that breaks the policy is held at open, shown in Settings, and confirmed only once the policy allows it', async () => {
    const t = s.current!;
    writeEmbedderConfig(t, { kind: 'openai', baseUrl: remoteUrl, model: 'm', dimension: DIM });
    writeAgentPolicy(t, { localModelsOnly: true });
    const id = t.id;
    await invokeCall(s, 'tenants.open', { tenantId: id });
    const view = await invokeCall(s, 'settings.get', {});
    expect(view).toMatchObject({ ok: true, value: { held: [{ slot: 'embedder', url: remoteUrl, reason: 'policy' }] } });
    expect(await invokeCall(s, 'settings.confirmEndpoints', {})).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_ALLOWED' } });
    expect(await invokeCall(s, 'knowledge.search', { query: 'pilot budget' })).toMatchObject({ ok: true, value: { mode: 'full-text' } });
    expect(outside.requests).toHaveLength(0);
  });
});

describe('"local models only" covers a stored embedder (written straight into the tenant)', () => {
  let vault: Vault;
  let t: TenantHandle;
  beforeAll(async () => {
    vault = await freshVault();
    const id = vault.createTenant('Beta').id;
    t = vault.openSession().open(id);
    // As an imported bundle or an older version could have left it: no check ran when it was written.
    writeEmbedderConfig(t, { kind: 'openai', baseUrl: remoteUrl, model: 'm', dimension: DIM });
    writeAgentPolicy(t, { localModelsOnly: true });
  });
  afterAll(() => vault.lock());

  it('sends zero bytes: ingestion fails with MODEL_NOT_ALLOWED, search falls back to full text', async () => {
    const summary = await ingestPaths(t, [docsFolder()], { embedder: createEmbedder(t, readEmbedderConfig(t)) });
    expect(summary).toMatchObject({ added: 0, failed: 1 });
    expect(summary.files[0]).toMatchObject({ status: 'failed', code: 'MODEL_NOT_ALLOWED' });
    const result = await searchKnowledge(t, 'pilot budget');
    expect(result.mode).toBe('full-text');
    expect(result.note).toMatch(/local models only/);
    expect(outside.requests).toHaveLength(0);
  });

  it('stays held after the policy is turned off, until the user confirms; then it is used', async () => {
    expect(await reviewStoredEndpoints(t)).toMatchObject([{ slot: 'embedder', url: remoteUrl, reason: 'policy' }]);
    await expect(confirmStoredEndpoints(t)).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
    const off = await setLocalModelsOnly(t, false);
    expect(off).toMatchObject({ localModelsOnly: false, held: [{ slot: 'embedder', url: remoteUrl }] });
    const summary = await ingestPaths(t, [docsFolder()], { embedder: createEmbedder(t, readEmbedderConfig(t)) });
    expect(summary.files[0]).toMatchObject({ status: 'failed', code: 'MODEL_NOT_ALLOWED' });
    expect(summary.files[0]!.reason).toMatch(/on hold/);
    expect(outside.requests).toHaveLength(0);

    expect((await confirmStoredEndpoints(t)).held).toEqual([]);
    const after = await ingestPaths(t, [docsFolder()], { embedder: createEmbedder(t, readEmbedderConfig(t)) });
    expect(after).toMatchObject({ added: 1, failed: 0 });
    expect(outside.requests.length).toBeGreaterThan(0);
  });
});

describe('an imported bundle with a remote embedder (cli)', () => {
  const BIN = path.resolve('bin/bulkhead.js');
  const built = fs.existsSync(path.resolve('dist/src-main/cli/bin.js'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE, BULKHEAD_EXPORT_PASSPHRASE: 'bundle passphrase 1234' };
  // Asynchronous: the embedding server answers from this process while the CLI runs.
  const cli = (data: string, args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string; json: () => Record<string, unknown> }>((resolve) => {
      execFile(process.execPath, [BIN, '--data-dir', data, '--json', ...args], { encoding: 'utf8', env }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> });
      });
    });

  it.skipIf(!built)('arrives held, whatever its policy; the CLI refuses to set it under local-only; zero requests until confirmed', async () => {
    // The bundle's author set the endpoint with the policy off (so no set-time check applied).
    const from = await freshVault();
    const id = from.createTenant('Beta').id;
    const session = from.openSession();
    const src = session.open(id);
    writeEmbedderConfig(src, { kind: 'openai', baseUrl: remoteUrl, model: 'm', dimension: DIM });
    session.close();
    const bundle = path.join(tempDir(), 'beta.bulkhead-export');
    await from.exportTenant(id, bundle, env.BULKHEAD_EXPORT_PASSPHRASE);
    from.lock();

    const data = tempDir();
    (await freshVault(data)).lock(); // the vault's own (cheap, test) KDF: each CLI run unlocks it
    const imported = await cli(data, ['import', bundle]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json().heldEndpoints).toMatchObject([{ slot: 'embedder', url: remoteUrl, reason: 'imported' }]);
    const ingest = await cli(data, ['ingest', '--tenant', 'Beta', docsFolder()]);
    expect(ingest.json()).toMatchObject({ added: 0, failed: 1, files: [{ code: 'MODEL_NOT_ALLOWED' }] });
    expect((await cli(data, ['search', '--tenant', 'Beta', 'pilot budget'])).json()).toMatchObject({ mode: 'full-text' });
    expect(outside.requests).toHaveLength(0);

    // Under local-only, setting it by hand is refused (exit 3, MODEL_NOT_ALLOWED) before a byte is sent.
    expect((await cli(data, ['policy', 'set', '--tenant', 'Beta', '--local-models-only', 'on'])).code).toBe(0);
    const set = await cli(data, ['embedder', 'set', '--tenant', 'Beta', 'openai', '--base-url', remoteUrl, '--model', 'm']);
    expect(set.code).toBe(3);
    expect(set.stderr).toMatch(/MODEL_NOT_ALLOWED/);
    expect((await cli(data, ['endpoints', 'confirm', '--tenant', 'Beta'])).code).toBe(3);
    expect(outside.requests).toHaveLength(0);

    // Policy off, confirmed: now it is this user's choice, and it is used.
    expect((await cli(data, ['policy', 'set', '--tenant', 'Beta', '--local-models-only', 'off'])).code).toBe(0);
    expect((await cli(data, ['endpoints', 'show', '--tenant', 'Beta'])).json().held).toHaveLength(1);
    expect((await cli(data, ['endpoints', 'confirm', '--tenant', 'Beta'])).json()).toMatchObject({ held: [] });
    const last = (await cli(data, ['ingest', '--tenant', 'Beta', docsFolder()])).json();
    expect(last, JSON.stringify(last)).toMatchObject({ added: 1, failed: 0 });
    expect(outside.requests.length).toBeGreaterThan(0);
  });
});
