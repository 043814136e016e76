import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../src-main/agent/agent.js';
import { listAudit } from '../../src-main/vault/audit-chain.js';
import { assertLoopbackEndpoint, isLoopbackAddress } from '../../src-main/egress/endpoint.js';
import { writeAgentPolicy } from '../../src-main/egress/policy.js';
import { streamChat, testConnection } from '../../src-main/agent/provider.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../helpers/agent.js';
import { startModelServer, type ModelServer } from '../helpers/model-server.js';

/** An address of this machine that is not loopback, so a real server is reachable on it. */
function outsideAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

const address = outsideAddress();
let fx: AgentFixture;
let outside: ModelServer;
let loopback: ModelServer;

beforeAll(async () => {
  fx = await agentFixture({ Local: ['The pilot budget is eighty thousand kroner.'] });
  if (address) outside = await startModelServer(() => ({ kind: 'text', text: 'from outside' }), { listen: '0.0.0.0', urlHost: address });
  loopback = await startModelServer(() => ({ kind: 'text', text: 'from loopback' }));
});
afterAll(async () => {
  fx.dispose();
  await outside?.close();
  await loopback.close();
});

describe('the "local models only" tenant policy', () => {
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '192.168.1.1', '0.0.0.0', '::', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', 'localhost'])
      expect(isLoopbackAddress(a), a).toBe(false);
  });

  it('accepts localhost and loopback literals, refuses names that resolve elsewhere or not at all', async () => {
    expect((await assertLoopbackEndpoint('http://localhost:11434/v1')).every(isLoopbackAddress)).toBe(true);
    await expect(assertLoopbackEndpoint('http://[::1]:8080/v1')).resolves.toEqual(['::1']);
    await expect(assertLoopbackEndpoint('http://127.0.0.2:8080/v1')).resolves.toEqual(['127.0.0.2']);
    await expect(assertLoopbackEndpoint('http://10.1.2.3:8080/v1')).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
    await expect(assertLoopbackEndpoint('http://no-such-host.invalid/v1')).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
  });

  it.skipIf(!address)('refuses a non-loopback endpoint without sending it any request; with the policy off the same endpoint is used', async () => {
    const t = fx.open('Local');
    writeAgentPolicy(t, { localModelsOnly: true });
    const refused = await askAgent(t, { question: 'What is the pilot budget?' }, { model: modelConfig(outside.baseUrl), embedder });
    expect(refused).toMatchObject({ mode: 'retrieval-only', label: 'not generated', modelError: { code: 'MODEL_NOT_ALLOWED' } });
    await expect(streamChat(t, modelConfig(outside.baseUrl), [{ role: 'user', content: 'x' }], undefined)).rejects.toMatchObject({
      code: 'MODEL_NOT_ALLOWED',
    });
    await expect(testConnection(t, modelConfig(outside.baseUrl))).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
    expect(outside.requests).toHaveLength(0);
    // No model call was made, so none is in the ledger.
    expect(listAudit(t).filter((a) => a.kind === 'model.call')).toHaveLength(0);

    // A loopback endpoint is still allowed under the policy, by address or as localhost (pinned to
    // the addresses checked, tried in turn: the server listens on 127.0.0.1 only).
    const local = await askAgent(t, { question: 'What is the pilot budget?' }, { model: modelConfig(loopback.baseUrl), embedder });
    expect(local).toMatchObject({ mode: 'generated', answer: 'from loopback' });
    const named = await askAgent(
      t,
      { question: 'What is the pilot budget?' },
      { model: modelConfig(loopback.baseUrl.replace('127.0.0.1', 'localhost')), embedder },
    );
    expect(named).toMatchObject({ mode: 'generated', answer: 'from loopback' });
    expect(loopback.requests.at(-1)!.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);

    // The control: without the policy, the outside server is reachable and answers.
    writeAgentPolicy(t, { localModelsOnly: false });
    const allowed = await askAgent(t, { question: 'What is the pilot budget?' }, { model: modelConfig(outside.baseUrl), embedder });
    expect(allowed).toMatchObject({ mode: 'generated', answer: 'from outside' });
    expect(outside.requests.length).toBeGreaterThan(0);
  });
});
