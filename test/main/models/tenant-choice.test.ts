import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../../src-main/agent/agent.js';
import type { BuiltinChat } from '../../../src-main/agent/builtin-provider.js';
import { resolveModelForAsk, resolveTenantModel, setTenantBuiltin } from '../../../src-main/agent/tenant-builtin.js';
import { readTenantModel, setTenantModel } from '../../../src-main/agent/tenant-model.js';
import { ModelLibrary } from '../../../src-main/models/library.js';
import { disposeModelRuntime, modelRuntime, useModelLibrary } from '../../../src-main/models/shared.js';
import { listAudit } from '../../../src-main/vault/audit-chain.js';
import { writeTenantMeta } from '../../../src-main/vault/tenant-meta.js';
import { agentFixture, type AgentFixture } from '../../helpers/agent.js';
import { writeTinyModel } from '../../helpers/gguf-writer.js';
import { startModelServer, type ModelServer } from '../../helpers/model-server.js';

// Per tenant, which chat model: Alpha on a library model run in this process, Beta on an
// OpenAI-compatible endpoint (a loopback server). Each is answered by its own, and Alpha's
// contexts go when Beta opens.
describe("a tenant's chat model: built-in or endpoint", () => {
  let fx: AgentFixture;
  let server: ModelServer;
  let lib: ModelLibrary;
  beforeAll(async () => {
    fx = await agentFixture({
      Alpha: ['The Alpha budget for the harbour project is forty thousand.'],
      Beta: ['The Beta meeting about the bridge is on Tuesday.'],
    });
    lib = new ModelLibrary(path.join(fx.dir, 'models'));
    lib.ensureDir();
    writeTinyModel(path.join(lib.dir, 'chat.gguf'), { kind: 'chat' });
    writeTinyModel(path.join(lib.dir, 'embed.gguf'), { kind: 'embedding', seed: 2 });
    writeTinyModel(path.join(lib.dir, 'rank.gguf'), { kind: 'reranking' });
    useModelLibrary(lib.dir, { gpu: false, contextSize: 1024 });
    server = await startModelServer(() => ({ kind: 'text', text: 'Beta endpoint answer' }));
  });
  afterAll(async () => {
    await server.close();
    await disposeModelRuntime();
    fx.dispose();
  });

  it('refuses an unknown model and a model of the wrong kind with typed errors, storing nothing', async () => {
    const a = fx.open('Alpha');
    const before = readTenantModel(a);
    await expect(setTenantBuiltin(a, { model: 'missing.gguf' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(setTenantBuiltin(a, { model: 'embed.gguf' })).rejects.toMatchObject({
      code: 'MODEL_WRONG_KIND',
      message: expect.stringContaining('an embedding model'),
    });
    await expect(setTenantBuiltin(a, { model: 'rank.gguf' })).rejects.toMatchObject({ code: 'MODEL_WRONG_KIND' });
    await expect(setTenantBuiltin(a, { model: '../chat.gguf' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(setTenantBuiltin(a, { model: 'chat.gguf', contextTokens: 10 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(readTenantModel(a)).toEqual(before);
  });

  it('endpoint settings stored before the built-in choice existed still read as an endpoint', async () => {
    const b = fx.open('Beta');
    // The stored form of earlier versions: no `kind`.
    writeTenantMeta(b, 'agent.model', JSON.stringify({ baseUrl: server.baseUrl, name: 'test-model', timeoutMs: 5000 }));
    expect(readTenantModel(b)).toEqual({ baseUrl: server.baseUrl, name: 'test-model', timeoutMs: 5000 });
    const config = await resolveTenantModel(fx.vault, b);
    expect(config).toMatchObject({ baseUrl: server.baseUrl, name: 'test-model' });
    expect(config!.builtin).toBeUndefined();
  });

  it('Alpha is answered by the built-in model and Beta by its endpoint; opening Beta disposes every context of Alpha', async () => {
    const a = fx.open('Alpha');
    await setTenantBuiltin(a, { model: 'chat.gguf' });
    expect(readTenantModel(a)).toEqual({ kind: 'builtin', model: 'chat.gguf' });
    const requestsBefore = server.chatBodies().length;
    const configA = await resolveTenantModel(fx.vault, a);
    expect(configA!.builtin).toBeDefined();
    const tokens: string[] = [];
    const ra = await askAgent(a, { question: 'What is the harbour budget?' }, { model: configA, maxToolSteps: 0, onToken: (t) => tokens.push(t) });
    expect(ra.mode).not.toBe('retrieval-only');
    expect(ra.model).toEqual({ name: 'chat.gguf', host: 'builtin' });
    expect(tokens.length).toBeGreaterThan(0);
    expect(server.chatBodies().length).toBe(requestsBefore); // nothing went to the endpoint
    const runtime = modelRuntime();
    expect(runtime.contextsOf(a)).toBe(1);
    const seqA = (configA!.builtin as BuiltinChat).sequence!;
    expect(seqA.disposed).toBe(false);
    // The ledger names the runtime, the weights' hash and the context used (ids and counts only).
    const call = listAudit(a).find((r) => r.kind === 'model.call')!;
    expect(call.data).toMatchObject({ model: 'chat.gguf', endpointHost: 'builtin', runtime: 'node-llama-cpp@3.21.1' });
    expect(call.data.modelSha256).toBe(await ModelLibrary.fileHash(path.join(lib.dir, 'chat.gguf')));
    expect(typeof call.data.contextId).toBe('string');
    expect(runtime.status(a).lastTurn).toMatchObject({ model: 'chat.gguf' });
    const disposedBefore = runtime.disposedContexts;

    const b = fx.open('Beta'); // closes Alpha
    expect(a.isOpen).toBe(false);
    await setTenantModel(b, { baseUrl: server.baseUrl, name: 'test-model' });
    const configB = await resolveTenantModel(fx.vault, b);
    const rb = await askAgent(b, { question: 'When is the bridge meeting?' }, { model: configB, maxToolSteps: 0 });
    await runtime.settled();
    expect(rb.answer).toContain('Beta endpoint answer');
    expect(rb.model?.host).toBe('127.0.0.1');
    expect(server.chatBodies().length).toBe(requestsBefore + 1);
    expect(seqA.disposed).toBe(true);
    expect(seqA.context.disposed).toBe(true);
    expect(runtime.disposedContexts).toBe(disposedBefore + 1);
    expect(runtime.contextsOf(b)).toBe(0); // Beta's endpoint holds nothing in the runtime
    expect(runtime.status(b).lastTurn).toBeNull(); // Alpha's figures are not Beta's
  });

  it('Alpha asking again after the switch starts on an empty sequence of a new context', async () => {
    const a = fx.open('Alpha');
    const config = await resolveTenantModel(fx.vault, a);
    await askAgent(a, { question: 'What is the harbour budget?' }, { model: config, maxToolSteps: 0 });
    const chat = config!.builtin as BuiltinChat;
    expect(chat.lastTurn!.tokensBefore).toBe(0);
    expect(modelRuntime().contextsOf(a)).toBe(1);
  });

  it('a built-in choice whose file left the library is refused with MODEL_NOT_FOUND when used', async () => {
    const a = fx.open('Alpha');
    fs.copyFileSync(path.join(lib.dir, 'chat.gguf'), path.join(lib.dir, 'gone.gguf'));
    await setTenantBuiltin(a, { model: 'gone.gguf' });
    fs.rmSync(path.join(lib.dir, 'gone.gguf'));
    await expect(resolveTenantModel(fx.vault, a)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    // A question is still answered, from retrieval, saying why no model answered.
    const chosen = await resolveModelForAsk(fx.vault, a);
    expect(chosen.model).toBeNull();
    expect(chosen.modelUnavailable).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const r = await askAgent(a, { question: 'What is the harbour budget?' }, { ...chosen, maxToolSteps: 0 });
    expect(r.mode).toBe('retrieval-only');
    expect(r.modelError).toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('gone.gguf') });
    expect(r.answer).toContain('forty thousand');
  });
});
