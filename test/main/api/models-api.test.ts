import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeCall, invokeStream } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { disposeModelRuntime } from '../../../src-main/models/shared.js';
import { writeTinyModel } from '../../helpers/gguf-writer.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

// What the console's Settings does with the model library, through the contract: list it, pick a
// library model for the open client's chat, embedder and reranker, and read load progress and
// tokens per second.
let s: ConsoleSession;
let dataDir: string;
let alpha: string;
let beta: string;

type Ok<T> = { ok: true; value: T };
const value = <T>(r: unknown): T => {
  expect(r).toMatchObject({ ok: true });
  return (r as Ok<T>).value;
};

beforeAll(async () => {
  dataDir = tempDir('bulkhead-models-api-');
  const lib = path.join(dataDir, 'models'); // the default library of the data folder
  fs.mkdirSync(lib, { recursive: true });
  writeTinyModel(path.join(lib, 'chat.gguf'), { kind: 'chat' });
  writeTinyModel(path.join(lib, 'embed.gguf'), { kind: 'embedding', seed: 2 });
  writeTinyModel(path.join(lib, 'rank.gguf'), { kind: 'reranking' });
  fs.writeFileSync(path.join(lib, 'broken.gguf'), 'not a model');
  s = new ConsoleSession({ dataDir, kdf: TEST_KDF });
  await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
  alpha = value<{ id: string }>(await invokeCall(s, 'tenants.create', { name: 'Alpha Co' })).id;
  beta = value<{ id: string }>(await invokeCall(s, 'tenants.create', { name: 'Beta Co' })).id;
  await invokeCall(s, 'tenants.open', { tenantId: alpha });
});
afterAll(async () => {
  s.dispose();
  await disposeModelRuntime();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the model library and the built-in runtime through the contract', () => {
  it('models.list shows the library with kinds, and the unusable file apart, never a path', async () => {
    const lib = value<{ models: { name: string; kind: string }[]; broken: { name: string; code: string }[] }>(await invokeCall(s, 'models.list', {}));
    expect(lib.models.map((m) => [m.name, m.kind])).toEqual([
      ['chat.gguf', 'chat'],
      ['embed.gguf', 'embedding'],
      ['rank.gguf', 'reranking'],
    ]);
    expect(lib.broken).toEqual([expect.objectContaining({ name: 'broken.gguf', code: 'MODEL_INVALID' })]);
    expect(JSON.stringify(lib)).not.toContain(dataDir);
  });

  it('a model of the wrong kind or not in the library is refused with a typed error for each slot', async () => {
    expect(await invokeCall(s, 'settings.setBuiltinModel', { model: 'embed.gguf' })).toMatchObject({ ok: false, error: { code: 'MODEL_WRONG_KIND' } });
    expect(await invokeCall(s, 'settings.setBuiltinModel', { model: 'nope.gguf' })).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_FOUND' } });
    expect(await invokeCall(s, 'settings.setBuiltinModel', { model: '../x.gguf' })).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    expect(await invokeCall(s, 'settings.setReranker', { model: 'chat.gguf' })).toMatchObject({ ok: false, error: { code: 'MODEL_WRONG_KIND' } });
    expect(await invokeCall(s, 'settings.setEmbedder', { embedder: { kind: 'builtin', model: 'rank.gguf' } })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_WRONG_KIND' },
    });
    const settings = value<{ model: unknown; reranker: unknown; embedder: { kind: string } }>(await invokeCall(s, 'settings.get', {}));
    expect(settings.reranker).toBeNull();
    expect(settings.embedder.kind).toBe('hash');
  });

  it('the client picks a built-in chat model; an answer streams from it, and the status shows its tokens per second', async () => {
    const saved = value<{ model: { builtin: string | null; baseUrl: string | null } }>(await invokeCall(s, 'settings.setBuiltinModel', { model: 'chat.gguf' }));
    expect(saved.model).toMatchObject({ builtin: 'chat.gguf', baseUrl: null });
    const tokens: string[] = [];
    const r = await invokeStream(
      s,
      'chat.ask',
      { question: 'Hello, what do you know?' },
      (e) => (e as { type: string }).type === 'token' && tokens.push((e as { text: string }).text),
      new AbortController().signal,
    );
    expect(r).toMatchObject({ ok: true, value: { mode: 'generated', model: { name: 'chat.gguf', host: 'builtin' } } });
    expect(tokens.length).toBeGreaterThan(0);
    const status = value<{
      backend: string;
      loaded: { model: string }[];
      loading: unknown[];
      contexts: number;
      lastTurn: { model: string; tokens: number; tokensPerS: number };
    }>(await invokeCall(s, 'models.status', {}));
    expect(status.backend).toBeTruthy();
    expect(status.loaded.map((l) => l.model)).toContain('chat.gguf');
    expect(status.loading).toEqual([]);
    expect(status.contexts).toBe(1);
    expect(status.lastTurn.model).toBe('chat.gguf');
    expect(status.lastTurn.tokens).toBeGreaterThan(0);
    expect(status.lastTurn.tokensPerS).toBeGreaterThanOrEqual(0);
  });

  it('the built-in embedder and the reranker are set through settings calls', async () => {
    const emb = value<{ embedder: unknown }>(await invokeCall(s, 'settings.setEmbedder', { embedder: { kind: 'builtin', model: 'embed.gguf' } }));
    expect(emb.embedder).toEqual({ kind: 'builtin', model: 'embed.gguf', dimension: 64 });
    expect(value<{ reranker: string | null }>(await invokeCall(s, 'settings.setReranker', { model: 'rank.gguf' })).reranker).toBe('rank.gguf');
    expect(value<{ reranker: string | null }>(await invokeCall(s, 'settings.setReranker', { model: null })).reranker).toBeNull();
  });

  it('a chosen chat model whose file left the library: the question is answered from retrieval, saying why', async () => {
    const lib = path.join(dataDir, 'models');
    fs.copyFileSync(path.join(lib, 'chat.gguf'), path.join(lib, 'gone.gguf'));
    value(await invokeCall(s, 'settings.setBuiltinModel', { model: 'gone.gguf' }));
    fs.rmSync(path.join(lib, 'gone.gguf'));
    const r = await invokeStream(s, 'chat.ask', { question: 'Hello?' }, () => undefined, new AbortController().signal);
    expect(r).toMatchObject({ ok: true, value: { mode: 'retrieval-only', modelError: expect.stringContaining('gone.gguf') } });
    value(await invokeCall(s, 'settings.setBuiltinModel', { model: 'chat.gguf' }));
  });

  it("another client sees none of the first one's runtime state, and the first one's contexts are gone", async () => {
    await invokeCall(s, 'tenants.open', { tenantId: beta });
    const status = value<{ contexts: number; lastTurn: unknown; loaded: { model: string }[] }>(await invokeCall(s, 'models.status', {}));
    expect(status.contexts).toBe(0);
    expect(status.lastTurn).toBeNull();
    // Weights are not tenant data: they stay loaded.
    expect(status.loaded.map((l) => l.model)).toContain('chat.gguf');
    const settings = value<{ model: { builtin: string | null } | null; embedder: { kind: string } }>(await invokeCall(s, 'settings.get', {}));
    expect(settings.model?.builtin ?? null).toBeNull();
    expect(settings.embedder.kind).toBe('hash');
  });
});
