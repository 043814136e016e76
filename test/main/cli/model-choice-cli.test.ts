import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../helpers/gguf-writer.js';
import { startModelServer, type ModelServer } from '../../helpers/model-server.js';
import { tempDir } from '../../helpers/vault.js';

// Per tenant, which model, from the CLI (dist, built by npm test): a library chat model for one
// tenant and an endpoint for the other, the built-in embedder and the reranker. The model server
// runs here, so the child is spawned asynchronously.
const BIN = path.resolve('bin/bulkhead.js');
const PASS = 'cli model choice passphrase';

function cli(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: PASS },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: ModelServer;
let data: string;

beforeAll(async () => {
  server = await startModelServer(() => ({ kind: 'text', text: 'Answer from the Beta endpoint.' }));
  data = tempDir('bulkhead-model-choice-cli-');
  expect((await cli(data, ['init'])).code).toBe(0);
  for (const t of ['Alpha', 'Beta']) expect((await cli(data, ['tenant', 'create', t])).code).toBe(0);
  const docs = tempDir();
  fs.writeFileSync(path.join(docs, 'budget.md'), '# Budget\n\nThe harbour budget is forty thousand.\n\n## Plan\n\nThe plan has three phases.\n');
  fs.writeFileSync(path.join(docs, 'meeting.md'), '# Meeting\n\nThe client meeting about the budget is on Tuesday.\n');
  for (const t of ['Alpha', 'Beta']) expect((await cli(data, ['ingest', '--tenant', t, docs])).code).toBe(0);
  const models = tempDir();
  for (const [name, kind] of [
    ['chat.gguf', 'chat'],
    ['embed.gguf', 'embedding'],
    ['rank.gguf', 'reranking'],
  ] as const) {
    writeTinyModel(path.join(models, name), { kind, seed: kind === 'embedding' ? 2 : 1 });
    expect((await cli(data, ['models', 'add', path.join(models, name)])).code).toBe(0);
  }
});
afterAll(async () => {
  await server.close();
});

describe('bulkhead model set --builtin, embedder set builtin, reranker', () => {
  it('refuses a model of the wrong kind, an unknown one, and both kinds at once, with exit codes that say so', async () => {
    const wrong = await cli(data, ['model', 'set', '--tenant', 'Alpha', '--builtin', 'embed.gguf']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/embed\.gguf is an embedding model, not a chat model.*\[MODEL_WRONG_KIND\]/);
    const unknown = await cli(data, ['model', 'set', '--tenant', 'Alpha', '--builtin', 'missing.gguf']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('[MODEL_NOT_FOUND]');
    const both = await cli(data, ['model', 'set', '--tenant', 'Alpha', '--builtin', 'chat.gguf', '--base-url', server.baseUrl]);
    expect(both.code).toBe(2);
    const neither = await cli(data, ['model', 'set', '--tenant', 'Alpha']);
    expect(neither.code).toBe(2);
    expect(JSON.parse((await cli(data, ['--json', 'model', 'show', '--tenant', 'Alpha'])).stdout)).toMatchObject({ kind: null, builtin: null });
  });

  it('Alpha on the built-in model and Beta on its endpoint: each answered by its own', async () => {
    const set = await cli(data, ['--json', 'model', 'set', '--tenant', 'Alpha', '--builtin', 'chat.gguf']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ kind: 'builtin', builtin: 'chat.gguf', baseUrl: null, apiKey: null });
    expect((await cli(data, ['model', 'show', '--tenant', 'Alpha'])).stdout).toMatch(/built-in\s+chat\.gguf/);
    expect((await cli(data, ['model', 'set', '--tenant', 'Beta', '--base-url', server.baseUrl, '--model', 'test-model'])).code).toBe(0);
    expect(JSON.parse((await cli(data, ['--json', 'model', 'show', '--tenant', 'Beta'])).stdout)).toMatchObject({ kind: 'endpoint', builtin: null });

    const before = server.chatBodies().length;
    const a = await cli(data, ['--json', 'ask', '--tenant', 'Alpha', 'What is the harbour budget?']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({
      mode: 'generated',
      model: { name: 'chat.gguf', host: 'builtin' },
      builtinTurn: { model: 'chat.gguf', tokens: expect.any(Number), tokensPerS: expect.any(Number) },
    });
    expect(JSON.parse(a.stdout).builtinTurn.tokens).toBeGreaterThan(0);
    expect((await cli(data, ['ask', '--tenant', 'Alpha', 'And the plan?'])).stdout).toMatch(/\(\d+ tokens at \d+\.\d tokens\/s\)\s*$/);
    expect(server.chatBodies().length).toBe(before);
    const b = await cli(data, ['--json', 'ask', '--tenant', 'Beta', 'When is the meeting?']);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ mode: 'generated', answer: expect.stringContaining('Answer from the Beta endpoint.') });
    expect(JSON.parse(b.stdout).builtinTurn).toBeUndefined();
    expect(server.chatBodies().length).toBe(before + 1);

    const test = await cli(data, ['--json', 'model', 'test', '--tenant', 'Alpha']);
    expect(test.code).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ builtin: 'chat.gguf', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('the built-in embedder re-embeds the tenant, and search then runs hybrid with it', async () => {
    expect((await cli(data, ['embedder', 'set', '--tenant', 'Alpha', 'builtin', '--model', 'chat.gguf'])).code).toBe(2);
    expect((await cli(data, ['embedder', 'set', '--tenant', 'Alpha', 'builtin'])).code).toBe(2);
    const set = await cli(data, ['--json', 'embedder', 'set', '--tenant', 'Alpha', 'builtin', '--model', 'embed.gguf']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ embedderId: expect.stringMatching(/^builtin:embed\.gguf@[0-9a-f]{12}$/), dimension: 64 });
    expect((await cli(data, ['embedder', 'show', '--tenant', 'Alpha'])).stdout).toMatch(/embedder builtin embed\.gguf/);
    const search = JSON.parse((await cli(data, ['--json', 'search', '--tenant', 'Alpha', 'harbour budget'])).stdout);
    expect(search.mode).toBe('hybrid');
    // Beta keeps its own embedder.
    expect(JSON.parse((await cli(data, ['--json', 'embedder', 'show', '--tenant', 'Beta'])).stdout).config).toEqual({ kind: 'hash' });
  });

  it('the reranker is off by default, refused unless a reranking model, and named by search when on', async () => {
    expect(JSON.parse((await cli(data, ['--json', 'reranker', 'show', '--tenant', 'Beta'])).stdout)).toEqual({ reranker: null });
    expect((await cli(data, ['reranker', 'set', '--tenant', 'Beta', 'chat.gguf'])).code).toBe(2);
    expect((await cli(data, ['reranker', 'set', '--tenant', 'Beta', 'nothing.gguf'])).code).toBe(4);
    expect((await cli(data, ['reranker', 'set', '--tenant', 'Beta', 'rank.gguf'])).code).toBe(0);
    const on = JSON.parse((await cli(data, ['--json', 'search', '--tenant', 'Beta', 'client budget'])).stdout);
    expect(on.reranker).toBe('rank.gguf');
    expect(on.passages.length).toBeGreaterThan(0);
    expect((await cli(data, ['reranker', 'unset', '--tenant', 'Beta'])).code).toBe(0);
    const off = JSON.parse((await cli(data, ['--json', 'search', '--tenant', 'Beta', 'client budget'])).stdout);
    expect(off.reranker).toBeUndefined();
  });
});
