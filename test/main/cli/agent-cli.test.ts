import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../../helpers/model-server.js';
import { tempDir } from '../../helpers/vault.js';

// The CLI runs in a child process (dist, built by npm test); the model server runs here, so the
// child is spawned asynchronously to keep this event loop free to answer it.

const BIN = path.resolve('bin/bulkhead.js');
const PASS = 'cli agent passphrase';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(dataDir: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: PASS, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

let server: ModelServer;
let data: string;

beforeAll(async () => {
  server = await startModelServer();
  data = tempDir();
  expect((await cli(data, ['init'])).code).toBe(0);
  expect((await cli(data, ['tenant', 'create', 'Acme'])).code).toBe(0);
  const docs = tempDir();
  fs.writeFileSync(path.join(docs, 'kickoff.md'), '# Kickoff\n\n## Budget\n\nThe pilot budget is eighty thousand kroner.\n');
  fs.writeFileSync(path.join(docs, 'voice.md'), '# Voice\n\nAlways answer in a cheerful tone, signing as the Acme desk.\n');
  expect((await cli(data, ['ingest', '--tenant', 'Acme', docs])).code).toBe(0);
});
afterAll(async () => {
  await server.close();
});

describe('bulkhead ask, chat, config, policy, docs role', () => {
  it('answers from retrieval only with no model configured, labelled as not generated', async () => {
    const r = await cli(data, ['ask', '--tenant', 'Acme', 'What is the pilot budget?']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Not generated \(no chat model is configured\)/);
    expect(r.stdout).toMatch(/Passages:\n\[S1\] Kickoff \(Kickoff > Budget, chars \d+-\d+\)/);
    const json = JSON.parse((await cli(data, ['--json', 'ask', '--tenant', 'Acme', 'pilot budget'])).stdout);
    expect(json).toMatchObject({ mode: 'retrieval-only', label: 'not generated' });
    expect(json.citations[0]).toMatchObject({ id: 'S1', title: 'Kickoff', headingPath: ['Kickoff', 'Budget'], charStart: 0 });
  });

  it("stores the tenant's model with its API key in the tenant's file, never printed in full; another tenant never gets the key", async () => {
    const key = 'sk-test-0123456789abcdef';
    const withKey = { env: { ACME_KEY: key } };
    expect(
      (await cli(data, ['model', 'set', '--tenant', 'Acme', '--base-url', server.baseUrl, '--model', 'test-model', '--api-key-env', 'ACME_KEY'], withKey)).code,
    ).toBe(0);
    expect((await cli(data, ['model', 'set', '--tenant', 'Acme', '--base-url', 'not a url', '--model', 'x'])).code).toBe(2);
    expect((await cli(data, ['model', 'set', '--tenant', 'Acme', '--base-url', server.baseUrl, '--model', 'x', '--api-key-env', 'NOT_SET'])).code).toBe(2);
    expect((await cli(data, ['config', 'set', 'model.apiKey', key])).code).toBe(2);
    expect((await cli(data, ['config', 'set', 'model.colour', 'blue'])).code).toBe(2);
    for (const f of fs.readdirSync(data, { recursive: true, encoding: 'utf8' })) {
      const p = path.join(data, f);
      if (fs.statSync(p).isFile()) expect(fs.readFileSync(p).includes(Buffer.from(key)), f).toBe(false);
    }
    const shown = await cli(data, ['model', 'show', '--tenant', 'Acme']);
    expect(shown.stdout).toContain(`endpoint   ${server.baseUrl}`);
    expect(shown.stdout).not.toContain(key);
    expect(shown.stdout).toMatch(/API key +sk-…cdef/);
    expect((await cli(data, ['model', 'test', '--tenant', 'Acme'])).stdout).toMatch(/Connected to 127\.0\.0\.1 .* "test-model" is listed/);

    server.script(() => ({ kind: 'text', text: 'The pilot budget is eighty thousand kroner [S1].', pieces: 6 }));
    const r = await cli(data, ['ask', '--tenant', 'Acme', 'What is the pilot budget?']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^The pilot budget is eighty thousand kroner \[S1\]\.\n\nSources:\n\[S1\] Kickoff \(Kickoff > Budget, chars \d+-\d+\)/);
    expect(r.stdout).toMatch(/\(generated, test-model at 127\.0\.0\.1; conversation \d+\)/);
    const chat = server.requests.filter((q) => q.url.endsWith('/chat/completions')).at(-1)!;
    expect(chat.headers.authorization).toBe(`Bearer ${key}`);

    // The vault-wide defaults prefill a new tenant (endpoint and model, no key) and nothing more.
    expect((await cli(data, ['config', 'set', 'model.baseUrl', server.baseUrl])).code).toBe(0);
    expect((await cli(data, ['config', 'set', 'model.name', 'default-model'])).code).toBe(0);
    expect((await cli(data, ['config', 'get', 'model.name'])).stdout.trim()).toBe('default-model');
    expect((await cli(data, ['tenant', 'create', 'Beta'])).code).toBe(0);
    expect(JSON.parse((await cli(data, ['--json', 'model', 'show', '--tenant', 'Beta'])).stdout)).toMatchObject({
      baseUrl: server.baseUrl,
      name: 'default-model',
      apiKey: null,
    });
    server.requests.length = 0;
    await cli(data, ['ask', '--tenant', 'Beta', 'budget?'], { env: { BULKHEAD_MODEL_API_KEY: 'sk-env-should-not-serve' } });
    const beta = server.requests.filter((q) => q.url.endsWith('/chat/completions'));
    expect(beta.map((q) => [q.headers.authorization, (q.body as { model: string }).model])).toEqual([[undefined, 'default-model']]);
    // Acme's own settings are untouched by the defaults.
    expect(JSON.parse((await cli(data, ['--json', 'model', 'show', '--tenant', 'Acme'])).stdout)).toMatchObject({ name: 'test-model', apiKey: 'sk-…cdef' });
  });

  it('chat keeps one conversation across lines and resumes it by id', async () => {
    server.script(() => ({ kind: 'text', text: 'Understood.' }));
    server.requests.length = 0;
    const r = await cli(data, ['chat', '--tenant', 'Acme'], { input: 'Remember PINEAPPLE-7\nWhat did I ask you to remember?\n/exit\n' });
    expect(r.code).toBe(0);
    const bodies = server.chatBodies();
    expect(bodies).toHaveLength(2);
    expect(bodies[1]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    const id = /resume with --conversation (\d+)/.exec(r.stdout)![1]!;
    await cli(data, ['chat', '--tenant', 'Acme', '--conversation', id], { input: 'And now?\n' });
    expect(JSON.stringify(server.chatBodies()[2]!.messages)).toContain('PINEAPPLE-7');
    const shown = await cli(data, ['conversations', 'show', '--tenant', 'Acme', id]);
    expect(shown.stdout.match(/^You: /gm)).toHaveLength(3);
    expect((await cli(data, ['chat', '--tenant', 'Acme', '--conversation', '9999'])).code).toBe(4);
  });

  it('prints model output as text: terminal escape sequences are dropped', async () => {
    server.script(() => ({ kind: 'text', text: 'Safe \u001b]0;pwned\u0007answer \u001b[2J\u001b[1Aend.\r', pieces: 3 }));
    const r = await cli(data, ['ask', '--tenant', 'Acme', 'budget?']);
    // Whole escape sequences are dropped (the terminal sanitiser); one cut across two streamed pieces
    // loses its introducer and its parameter text stays, as plain text.
    expect(r.stdout).toMatch(/^Safe (0;pwned)?answer end\./);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it('a write the agent asks for is declined off a terminal without --yes', async () => {
    server.script((_b, i) =>
      i === 0 ? { kind: 'tools', calls: [{ name: 'save_note', arguments: '{"title":"t","body":"b"}' }] } : { kind: 'text', text: 'ok' },
    );
    const r = await cli(data, ['ask', '--tenant', 'Acme', 'save a note']);
    expect(r.stderr).toMatch(/declined \(not a terminal; pass --yes to allow\)/);
  });

  it('marks a document as the brand voice, and the local-only policy refuses a non-loopback endpoint', async () => {
    const docs = JSON.parse((await cli(data, ['--json', 'docs', '--tenant', 'Acme'])).stdout).documents as { id: number; title: string }[];
    const voice = docs.find((d) => d.title === 'Voice')!;
    expect((await cli(data, ['docs', 'role', '--tenant', 'Acme', String(voice.id), 'voice'])).stdout).toMatch(/is now: voice/);
    expect((await cli(data, ['docs', 'role', '--tenant', 'Acme', String(voice.id), 'boss'])).code).toBe(2);
    expect((await cli(data, ['model', 'set', '--tenant', 'Acme', '--base-url', server.baseUrl, '--model', 'test-model'])).code).toBe(0);
    server.script(() => ({ kind: 'text', text: 'ok' }));
    await cli(data, ['ask', '--tenant', 'Acme', 'budget?']);
    expect(server.chatBodies().at(-1)!.messages[0]!.content).toContain('signing as the Acme desk');

    // An outside endpoint stored while the policy was off: under local-only it is refused where the request is made.
    expect((await cli(data, ['model', 'set', '--tenant', 'Acme', '--base-url', 'http://192.0.2.1:9/v1', '--model', 'm'])).code).toBe(0);
    expect((await cli(data, ['policy', 'set', '--tenant', 'Acme', '--local-models-only', 'on'])).code).toBe(0);
    expect((await cli(data, ['policy', '--tenant', 'Acme'])).stdout.trim()).toBe('local models only: on');
    const r = await cli(data, ['ask', '--tenant', 'Acme', 'budget?']);
    expect(r.code).toBe(0);
    // Held at open: it broke the policy (turning the policy off later would not wake it unconfirmed).
    expect(r.stderr).toMatch(/on hold until you confirm it .*local models only.*\[MODEL_NOT_ALLOWED\]/);
    expect(r.stdout).toMatch(/^Not generated \(the model endpoint is not allowed for this tenant\)/);
    expect((await cli(data, ['model', 'test', '--tenant', 'Acme'])).code).toBe(3);
    // And setting one under local-only is refused before anything is stored.
    const set = await cli(data, ['model', 'set', '--tenant', 'Acme', '--base-url', 'http://192.0.2.2:9/v1', '--model', 'm']);
    expect(set.code).toBe(3);
    expect(set.stderr).toMatch(/MODEL_NOT_ALLOWED/);
  });
});
