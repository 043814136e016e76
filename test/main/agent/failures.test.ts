import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../../src-main/agent/agent.js';
import { listConversations, listMessages } from '../../../src-main/agent/conversations.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../../helpers/agent.js';
import { closedPort } from '../../helpers/embedding-server.js';
import { startModelServer, type ModelServer, type Reply } from '../../helpers/model-server.js';

let fx: AgentFixture;
let server: ModelServer;

beforeAll(async () => {
  fx = await agentFixture({ Fjord: ['The pilot budget for the Fjord project is eighty thousand kroner.', 'Astrid leads the Fjord project.'] });
  server = await startModelServer();
});
afterAll(async () => {
  fx.dispose();
  await server.close();
});

/** Asks in an existing conversation while the server misbehaves; returns what happened and what was kept. */
async function askWhile(reply: Reply, overrides: Parameters<typeof modelConfig>[1] = {}, baseUrl = server.baseUrl) {
  const t = fx.open('Fjord');
  server.script(() => ({ kind: 'text', text: 'The budget is eighty thousand kroner.' }));
  const start = await askAgent(t, { question: 'What is the budget?' }, { model: modelConfig(server.baseUrl), embedder });
  const before = listMessages(t, start.conversationId);
  server.script(() => reply);
  const tokens: string[] = [];
  let discarded = 0;
  const result = await askAgent(
    t,
    { question: 'Who leads it?', conversationId: start.conversationId },
    {
      model: modelConfig(baseUrl, { timeoutMs: 800, ...overrides }),
      embedder,
      onToken: (x) => tokens.push(x),
      onDiscard: () => discarded++,
    },
  );
  const after = listMessages(t, start.conversationId);
  return { result, before, after, tokens, discarded };
}

describe('a failing model endpoint', () => {
  const cases: [string, Reply][] = [
    ['answers HTTP 500', { kind: 'status', status: 500 }],
    ['answers HTTP 404 (wrong model or path)', { kind: 'status', status: 404 }],
    ['sends garbage instead of the protocol', { kind: 'garbage' }],
    ['stalls after the headers (slow: timed out)', { kind: 'stall' }],
    ['dies mid-stream', { kind: 'die-mid-stream', pieces: ['Astrid ', 'leads PARTIAL-'] }],
    ['sends an error event mid-stream', { kind: 'error-mid-stream', pieces: ['Astrid ', 'leads PARTIAL-'] }],
  ];
  it.each(cases)('%s: a clear error, a retrieval-only answer, the conversation kept whole, no partial text stored', async (_name, reply) => {
    const { result, before, after, tokens, discarded } = await askWhile(reply);
    expect(result.mode).toBe('retrieval-only');
    expect(result.label).toBe('not generated');
    expect(result.modelError).toMatchObject({ code: 'MODEL_UNAVAILABLE', message: expect.stringMatching(/^the model at 127\.0\.0\.1 /) });
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((m) => [m.role, m.mode])).toEqual([
      ['user', null],
      ['assistant', 'retrieval-only'],
    ]);
    expect(after.some((m) => m.content.includes('PARTIAL'))).toBe(false);
    expect(result.citations.length).toBeGreaterThan(0);
    if (tokens.length > 0) expect(discarded).toBe(1);
  });

  it('names the timeout when the model stays silent', async () => {
    const { result } = await askWhile({ kind: 'stall' });
    expect(result.modelError?.message).toMatch(/timed out/);
  });

  it('names a server that is down', async () => {
    const port = await closedPort();
    const { result } = await askWhile({ kind: 'text', text: 'unused' }, {}, `http://127.0.0.1:${port}/v1`);
    expect(result.modelError?.message).toMatch(/cannot connect/);
  });

  it('retries a transient 503 before the stream starts and then answers', async () => {
    const t = fx.open('Fjord');
    server.script((_b, i) => (i === 0 ? { kind: 'status', status: 503 } : { kind: 'text', text: 'Astrid leads it.' }));
    const r = await askAgent(t, { question: 'Who leads it?' }, { model: modelConfig(server.baseUrl, { maxRetries: 2 }), embedder });
    expect(r).toMatchObject({ mode: 'generated', answer: 'Astrid leads it.' });
  });

  it('a cancel mid-stream stores nothing and says so', async () => {
    const t = fx.open('Fjord');
    const convs = listConversations(t).length;
    server.script(() => ({ kind: 'slow-text', pieces: ['Astrid '], delayMs: 2000, after: 'leads' }));
    const controller = new AbortController();
    const pending = askAgent(
      t,
      { question: 'Who leads it?' },
      { model: modelConfig(server.baseUrl), embedder, signal: controller.signal, onToken: () => controller.abort() },
    );
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(listConversations(t)).toHaveLength(convs);
  });
});
