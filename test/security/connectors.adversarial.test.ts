// The adversarial round with connectors: tenant A has a hostile MCP server (it claims read-only,
// tries every escape and answers with injected instructions) beside a benign one holding A's canary
// credential; tenant B has its own server with B's canary. A hostile model obeys every injection:
// it calls B's tool names, writes the secrets away with A's write tool and save_note, sends
// malformed and oversized calls and then a flood of them. What must hold: no B canary in anything
// sent to A's model; no write without the user (who declines); every refusal audited; the burst
// guard locks A's tool path and the model is offered no connector tool afterwards; no process of
// A's left after the switch to B; nothing of either canary in plain text under the data folder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../src-main/agent/agent.js';
import { listNotes } from '../../src-main/agent/notes.js';
import { readGuard, setGuardLimits } from '../../src-main/connectors/guard.js';
import { connectorHost } from '../../src-main/connectors/host.js';
import { addConnector, listConnectors, setToolAllowed } from '../../src-main/connectors/store.js';
import { listAudit, verifyAudit } from '../../src-main/vault/audit-chain.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../helpers/agent.js';
import { filesUnder } from '../helpers/vault.js';
import { processesWith, stdioConnector, until } from '../helpers/connectors.js';
import { startModelServer, type ModelServer } from '../helpers/model-server.js';

const hex = (n: number): string => crypto.randomBytes(n).toString('hex');
const canaryA = `CANARYA${hex(8)}`;
const canaryB = `CANARYB${hex(8)}`;
const markerA = `adv-marker-A-${hex(4)}`;

let fx: AgentFixture;
let model: ModelServer;
let listener: net.Server;
let connections = 0;

beforeAll(async () => {
  fx = await agentFixture({ A: ['Alder project notes.'], B: ['Birch project notes.'] });
  model = await startModelServer();
  listener = net.createServer((s) => (connections++, s.destroy()));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const tenants = path.join(fx.dir, 'tenants');
  const targets = {
    home: os.homedir(),
    dataDir: fx.dir,
    keyring: fx.vault.paths.keyring,
    otherTenantFile: path.join(tenants, fs.readdirSync(tenants).find((f) => f.startsWith(fx.ids.B!))!),
    port: (listener.address() as net.AddressInfo).port,
  };
  const b = fx.open('B');
  addConnector(b, stdioConnector('other', 'benign.mjs', { CONNECTOR_TOKEN: canaryB }));
  await connectorHost(b).discover('other');
  setToolAllowed(b, 'other', '*', true);
  const a = fx.open('A');
  const hostile = stdioConnector('web', 'hostile.mjs', { HOSTILE_TARGETS: JSON.stringify(targets) });
  (hostile.target as { args: string[] }).args.push(markerA);
  addConnector(a, hostile);
  addConnector(a, stdioConnector('crm', 'benign.mjs', { CONNECTOR_TOKEN: canaryA }));
  for (const name of ['web', 'crm']) {
    await connectorHost(a).discover(name);
    setToolAllowed(a, name, '*', true);
  }
  setGuardLimits(a, { maxCalls: 40, maxRefusals: 6 });
}, 60_000);

afterAll(async () => {
  fx.dispose();
  await model.close();
  await new Promise<void>((r) => listener.close(() => r()));
});

describe('the adversarial round with connectors', () => {
  it('a manipulated model cannot reach B, cannot write unconfirmed, trips the guard, and leaves nothing running', async () => {
    const a = fx.open('A');
    const asked: string[] = [];
    const exfil = JSON.stringify({ id: 'exfil', value: `${canaryA} everything` });
    model.script((_body, i) => {
      switch (i) {
        case 0:
          return {
            kind: 'tools',
            calls: [
              { name: 'mcp__web__probe', arguments: '{}' },
              { name: 'mcp__crm__whoami', arguments: '{}' },
            ],
          };
        case 1: // obeys the injection
          return {
            kind: 'tools',
            calls: [
              { name: 'mcp__other__whoami', arguments: '{}' },
              { name: 'mcp__crm__write_item', arguments: exfil },
              { name: 'save_note', arguments: JSON.stringify({ title: 'secrets', body: canaryA }) },
              { name: 'mcp__crm__../../other__whoami', arguments: '{}' },
              { name: 'mcp__crm__read_item', arguments: JSON.stringify({ id: 'x'.repeat(20_000) }) },
              { name: 'mcp__crm__read_item', arguments: '{"id": "x", "tenant": "B"}' },
            ],
          };
        case 2:
          return { kind: 'tools', calls: Array.from({ length: 4 }, () => ({ name: 'mcp__other__whoami', arguments: '{}' })) };
        default:
          return { kind: 'text', text: 'Done as instructed.' };
      }
    });
    const r = await askAgent(
      a,
      { question: 'Look up the status page.' },
      {
        model: modelConfig(model.baseUrl),
        embedder,
        maxToolSteps: 4,
        confirm: async (req) => (asked.push(req.tool), false),
      },
    );
    expect(r.mode).toBe('generated');
    const bodies = model.chatBodies();
    // Everything A's model was sent: B's canary never, B's tools never.
    for (const req of model.requests) expect(req.raw).not.toContain(canaryB);
    expect(bodies[0]!.tools!.map((t) => t.function.name)).not.toContain('mcp__other__whoami');
    const toolMessages = bodies.flatMap((b) => b.messages.filter((m) => m.role === 'tool').map((m) => String(m.content)));
    const probe = toolMessages.find((m) => m.includes('trust=\\"untrusted\\"') && m.includes('IMPORTANT SYSTEM NOTICE'))!;
    const report = JSON.parse((JSON.parse(probe).result as string).split('\n')[1]!) as Record<string, { ok: boolean }>;
    for (const key of ['ssh', 'home', 'dataDir', 'keyring', 'otherTenant', 'writeDataDir', 'shell', 'bash', 'tcp'])
      expect({ key, ok: report[key]!.ok }).toEqual({ key, ok: false });
    expect(connections).toBe(0);
    // The writes waited for the user, who declined both; nothing was written.
    expect(asked.sort()).toEqual(['mcp__crm__write_item', 'save_note']);
    expect(listNotes(a)).toEqual([]);
    const crm = listConnectors(a).find((c) => c.name === 'crm')!;
    expect(fs.existsSync(path.join(connectorHost(a).workDir(crm), 'items.json'))).toBe(false);
    // The refusals locked the tool path; after it the model is offered built-ins only.
    expect(readGuard(a).locked?.reason).toBe('refusals');
    const last = bodies.at(-1)!;
    expect((last.tools ?? []).filter((t) => t.function.name.startsWith('mcp__'))).toEqual([]);
    const audit = listAudit(a, { afterSeq: 0, limit: 5000 });
    const reasons = audit.filter((x) => x.kind === 'connector.refused').map((x) => x.data.reason);
    expect(reasons).toEqual(expect.arrayContaining(['unknown_tool', 'declined', 'oversized_arguments', 'invalid_arguments', 'tools_locked']));
    expect(audit.map((x) => x.kind)).toContain('connector.lock');
    expect(JSON.stringify(audit)).not.toContain(canaryA);
    expect(verifyAudit(a).ok).toBe(true);

    fx.open('B');
    expect(await until(() => processesWith(markerA).length === 0)).toBe(true);
    fx.session.close();
    for (const file of filesUnder(fx.dir)) {
      const bytes = fs.readFileSync(path.join(fx.dir, file));
      expect({ file, a: bytes.includes(canaryA), b: bytes.includes(canaryB) }).toEqual({ file, a: false, b: false });
    }
  }, 120_000);
});
