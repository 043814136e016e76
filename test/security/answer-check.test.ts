import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../src-main/agent/agent.js';
import { listMessages } from '../../src-main/agent/conversations.js';
import { WITHHELD } from '../../src-main/agent/outbound-check.js';
import { listAudit } from '../../src-main/vault/audit-chain.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../helpers/agent.js';
import { startModelServer, type ModelServer } from '../helpers/model-server.js';

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qui', 'dro', 'fen', 'gul', 'hax', 'jor'];
function prose(seed: string, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const h = crypto.createHash('sha256').update(`${seed}:${i}`).digest();
    out.push(SYLLABLES[h[0]! % 16]! + SYLLABLES[h[1]! % 16]! + SYLLABLES[h[2]! % 16]!);
  }
  return out.join(' ');
}

const betaText = prose('beta', 240);
let fx: AgentFixture;
let server: ModelServer;

beforeAll(async () => {
  fx = await agentFixture({
    'Acme Corp': ['Acme harbour plan: the expansion budget is four million.', 'A memo about the harbour that names Beta Labs by mistake.'],
    'Beta Labs': [betaText.split(' ').slice(0, 120).join(' '), betaText.split(' ').slice(120).join(' ')],
  });
  // Beta opened once in this unlock and left at once (a switch before its fingerprints were due
  // to be learned): the vault's book learns them (keyed, in memory) as Beta closes.
  fx.open('Beta Labs');
  fx.open('Acme Corp');
  server = await startModelServer();
});
afterAll(async () => {
  await server.close();
  fx.dispose();
});

async function ask(question: string): Promise<{ streamed: string; answer: string; conversationId: number }> {
  const acme = fx.open('Acme Corp');
  let streamed = '';
  const r = await askAgent(
    acme,
    { question },
    { model: modelConfig(server.baseUrl), embedder, onToken: (t) => (streamed += t), onDiscard: () => (streamed = '') },
  );
  return { streamed, answer: r.answer, conversationId: r.conversationId };
}

describe("answers are checked on the way out against the other clients' names and fingerprints", () => {
  it('withholds an answer naming another client: never streamed, stored as withheld, audited as ids only', async () => {
    server.script(() => ({ kind: 'text', text: 'Our files show that beta LABS is also a client of the agency, with a budget.', pieces: 12 }));
    const r = await ask('who else is a client?');
    expect(r.answer).toBe(WITHHELD);
    expect(r.streamed.toLowerCase()).not.toContain('beta');
    const acme = fx.open('Acme Corp');
    expect(listMessages(acme, r.conversationId).map((m) => m.content)).toEqual(['who else is a client?', WITHHELD]);
    const withheld = listAudit(acme).filter((a) => a.kind === 'answer.withheld');
    expect(withheld.at(-1)!.data).toEqual({ where: 'answer', step: 0, toolCallId: null });
  });

  it("withholds an answer quoting another client's passages (a fingerprint, not a name)", async () => {
    const quote = betaText.split(' ').slice(30, 70).join(' ');
    server.script(() => ({ kind: 'text', text: `Here is what I remember: ${quote}.`, pieces: 20 }));
    const r = await ask('what do you remember?');
    expect(r.answer).toBe(WITHHELD);
    expect(r.streamed).not.toContain(quote.split(' ').slice(0, 8).join(' '));
  });

  it('withholds a tool result naming another client before the model sees it', async () => {
    server.script((_b, i) =>
      i === 0
        ? { kind: 'tools', calls: [{ name: 'search_knowledge', arguments: JSON.stringify({ query: 'memo harbour names mistake' }) }] }
        : { kind: 'text', text: 'Nothing to add.' },
    );
    const r = await ask('search the memo');
    expect(r.answer).toBe('Nothing to add.');
    const second = server.chatBodies().at(-1)!;
    const tool = second.messages.find((m) => m.role === 'tool')!;
    expect(tool.content).toContain(WITHHELD);
    expect(tool.content).not.toMatch(/Beta Labs/i);
    const acme = fx.open('Acme Corp');
    expect(
      listAudit(acme)
        .filter((a) => a.kind === 'answer.withheld')
        .at(-1)!.data,
    ).toMatchObject({ where: 'tool', toolCallId: expect.any(String) });
  });

  it("passes an answer about the open client's own matters, streamed whole", async () => {
    server.script(() => ({ kind: 'text', text: 'Acme Corp plans a harbour expansion with a budget of four million.', pieces: 9 }));
    const r = await ask('what is the plan?');
    expect(r.answer).toBe('Acme Corp plans a harbour expansion with a budget of four million.');
    expect(r.streamed).toBe(r.answer);
  });
});
