import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../../src-main/agent/agent.js';
import { connectorToolSpecs, runConnectorTool } from '../../../src-main/connectors/calls.js';
import { readGuard, setGuardLimits, unlockTools } from '../../../src-main/connectors/guard.js';
import { connectorHost } from '../../../src-main/connectors/host.js';
import { addConnector, listConnectors, readTools, removeConnector, setToolAllowed } from '../../../src-main/connectors/store.js';
import { listAudit, verifyAudit } from '../../../src-main/vault/audit-chain.js';
import { agentFixture, embedder, modelConfig, type AgentFixture } from '../../helpers/agent.js';
import { processesWith, stdioConnector, until } from '../../helpers/connectors.js';
import { startModelServer, type ModelServer } from '../../helpers/model-server.js';

const canaryA = `canary-A-${crypto.randomBytes(8).toString('hex')}`;
const canaryB = `canary-B-${crypto.randomBytes(8).toString('hex')}`;
const markerA = `marker-A-${crypto.randomBytes(6).toString('hex')}`;
const markerB = `marker-B-${crypto.randomBytes(6).toString('hex')}`;

let fx: AgentFixture;
let model: ModelServer;

function withMarker(input: ReturnType<typeof stdioConnector>, marker: string): ReturnType<typeof stdioConnector> {
  const t = input.target as { args: string[] };
  return { ...input, target: { ...input.target, args: [...t.args, marker] } as never };
}

beforeAll(async () => {
  fx = await agentFixture({ A: ['Project Fjord notes.'], B: ['Project Birch notes.'] });
  model = await startModelServer();
  // Both tenants name their connector "crm": the names collide, the servers and credentials never do.
  addConnector(fx.open('A'), withMarker(stdioConnector('crm', 'benign.mjs', { CONNECTOR_TOKEN: canaryA }), markerA));
  addConnector(fx.open('B'), withMarker(stdioConnector('crm', 'benign.mjs', { CONNECTOR_TOKEN: canaryB }), markerB));
  addConnector(fx.open('B'), stdioConnector('bonly', 'benign.mjs', { CONNECTOR_TOKEN: canaryB }));
}, 30_000);
afterAll(async () => {
  fx.dispose();
  await model.close();
});

describe('connectors belong to a tenant', () => {
  it('are stored in the tenant file, sealed: neither the credential nor the command is readable on disk', () => {
    const a = fx.open('A');
    expect(listConnectors(a).map((c) => c.name)).toEqual(['crm']);
    const b = fx.open('B');
    expect(listConnectors(b).map((c) => c.name)).toEqual(['crm', 'bonly']);
    fx.session.close();
    const tenants = path.join(fx.dir, 'tenants');
    for (const f of fs.readdirSync(tenants)) {
      const bytes = fs.readFileSync(path.join(tenants, f));
      expect(bytes.includes(canaryA)).toBe(false);
      expect(bytes.includes(canaryB)).toBe(false);
      expect(bytes.includes('benign.mjs')).toBe(false);
    }
  });

  it('a newly discovered tool is off until allowed; the model sees only allowed tools of the open tenant', async () => {
    const a = fx.open('A');
    const { tools, sandbox } = await connectorHost(a).discover('crm');
    expect(sandbox).toBe('bwrap');
    expect(tools.map((t) => [t.name, t.allowed, t.readOnly])).toEqual([
      ['read_item', false, true],
      ['whoami', false, true],
      ['write_item', false, false],
    ]);
    expect(connectorToolSpecs(a)).toEqual([]);
    setToolAllowed(a, 'crm', '*', true);
    expect(connectorToolSpecs(a).map((s) => s.function.name)).toEqual(['mcp__crm__read_item', 'mcp__crm__whoami', 'mcp__crm__write_item']);
    const b = fx.open('B');
    expect(connectorToolSpecs(b)).toEqual([]); // B allowed nothing; A's allowlist is A's
  }, 30_000);

  it("A's model can never reach B's server or credential, even by B's tool names", async () => {
    const b = fx.open('B');
    await connectorHost(b).discover('crm');
    await connectorHost(b).discover('bonly');
    setToolAllowed(b, 'crm', 'whoami', true);
    setToolAllowed(b, 'bonly', 'whoami', true);
    const a = fx.open('A');
    expect(await until(() => processesWith(markerB).length === 0)).toBe(true);
    model.requests.length = 0;
    model.script((_body, i) =>
      i === 0
        ? {
            kind: 'tools',
            calls: [
              { name: 'mcp__crm__whoami', arguments: '{}' },
              { name: 'mcp__bonly__whoami', arguments: '{}' },
              { name: 'mcp__crm__whoami', arguments: '{"tenant":"B"}' },
            ],
          }
        : { kind: 'text', text: 'done' },
    );
    const r = await askAgent(a, { question: 'which account?' }, { model: modelConfig(model.baseUrl), embedder });
    expect(r.toolRefusals).toBe(2);
    const bodies = model.chatBodies();
    const offered = bodies[0]!.tools!.map((t) => t.function.name);
    expect(offered).toContain('mcp__crm__whoami');
    expect(offered).not.toContain('mcp__bonly__whoami');
    const toolMessages = bodies[1]!.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
    expect(toolMessages[0]).toContain(canaryA);
    expect(toolMessages[0]).toContain('trust=\\"untrusted\\"');
    expect(JSON.parse(toolMessages[1]!).error).toBe('unknown_tool');
    expect(JSON.parse(toolMessages[2]!).error).toBe('invalid_arguments'); // the schema allows no extra keys
    for (const req of model.requests) expect(req.raw).not.toContain(canaryB);
    expect(processesWith(markerB)).toEqual([]);
    const kinds = listAudit(a, { afterSeq: 0, limit: 1000 }).map((x) => x.kind);
    expect(kinds).toContain('connector.call');
    expect(kinds).toContain('connector.refused');
    const audit = JSON.stringify(listAudit(a, { afterSeq: 0, limit: 1000 }));
    expect(audit).not.toContain(canaryA);
    expect(verifyAudit(a).ok).toBe(true);
  }, 30_000);

  it('the write tool waits for the user: nothing is written until allowed, nothing when declined', async () => {
    const a = fx.open('A');
    const host = connectorHost(a);
    const work = host.workDir(listConnectors(a)[0]!);
    const store = path.join(work, 'items.json');
    fs.rmSync(store, { force: true });
    let release!: (allow: boolean) => void;
    const asked: string[] = [];
    const pending = runConnectorTool(
      { tenant: a, confirm: (req) => (asked.push(req.title), new Promise<boolean>((r) => (release = r))) },
      { name: 'mcp__crm__write_item', arguments: '{"id":"k","value":"v1"}' },
    );
    expect(await until(() => asked.length === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.existsSync(store)).toBe(false);
    release(true);
    const ok = await pending;
    expect(ok.ok).toBe(true);
    expect(JSON.parse(fs.readFileSync(store, 'utf8'))).toEqual({ k: 'v1' });
    const declined = await runConnectorTool({ tenant: a, confirm: async () => false }, { name: 'mcp__crm__write_item', arguments: '{"id":"k","value":"v2"}' });
    expect(declined.reason).toBe('declined');
    const noConfirm = await runConnectorTool({ tenant: a }, { name: 'mcp__crm__write_item', arguments: '{"id":"k","value":"v3"}' });
    expect(noConfirm.reason).toBe('declined');
    expect(JSON.parse(fs.readFileSync(store, 'utf8'))).toEqual({ k: 'v1' });
    const read = await runConnectorTool({ tenant: a }, { name: 'mcp__crm__read_item', arguments: '{"id":"k"}' });
    expect(read.ok).toBe(true); // read-only: no confirmation asked
    const kinds = listAudit(a, { afterSeq: 0, limit: 1000 })
      .filter((x) => x.kind === 'connector.confirm')
      .map((x) => x.data.allowed);
    expect(kinds).toEqual([true, false, false]);
  }, 30_000);

  it("switching to B kills every process of A's connectors; locking kills B's", async () => {
    const a = fx.open('A');
    await runConnectorTool({ tenant: a }, { name: 'mcp__crm__whoami', arguments: '{}' });
    expect(processesWith(markerA).length).toBeGreaterThanOrEqual(2); // bwrap and the server inside it
    const b = fx.open('B');
    expect(await until(() => processesWith(markerA).length === 0)).toBe(true);
    await runConnectorTool({ tenant: b }, { name: 'mcp__crm__whoami', arguments: '{}' });
    expect(processesWith(markerB).length).toBeGreaterThanOrEqual(2);
    fx.vault.lock();
    expect(await until(() => processesWith(markerB).length === 0)).toBe(true);
    await fx.vault.unlock('correct horse battery staple');
  }, 30_000);

  it('a server whose declaration of an allowed tool changed is refused and the tool turned off', async () => {
    const a = fx.open('A');
    const c = listConnectors(a)[0]!;
    const tools = readTools(a, c.id);
    // As if the server had declared another schema when the tool was allowed.
    a.db
      .prepare('UPDATE tenant_meta SET value = ? WHERE key = ?')
      .run(JSON.stringify(tools.map((t) => (t.name === 'whoami' ? { ...t, sha256: '0'.repeat(64) } : t))), `connectors.tools.${c.id}`);
    const r = await runConnectorTool({ tenant: a }, { name: 'mcp__crm__whoami', arguments: '{}' });
    expect(r.reason).toBe('connector_failed');
    const after = readTools(a, c.id).find((t) => t.name === 'whoami')!;
    expect(after).toMatchObject({ allowed: false, changed: true });
    expect(connectorToolSpecs(a).map((s) => s.function.name)).not.toContain('mcp__crm__whoami');
  }, 30_000);
});

describe('the burst guard', () => {
  it('trips after too many calls, holds across a reopen, and only the user unlocks it (audited)', async () => {
    let a = fx.open('A');
    setToolAllowed(a, 'crm', 'read_item', true);
    unlockTools(a); // the calls of the tests above start no count here
    setGuardLimits(a, { maxCalls: 3, maxRefusals: 50 });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await runConnectorTool({ tenant: a }, { name: 'mcp__crm__read_item', arguments: '{"id":"x"}' }));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, false]);
    expect(outcomes[4]!.reason).toBe('tools_locked');
    expect(connectorToolSpecs(a)).toEqual([]);
    fx.open('B');
    a = fx.open('A');
    expect(readGuard(a).locked?.reason).toBe('calls');
    expect((await runConnectorTool({ tenant: a }, { name: 'mcp__crm__read_item', arguments: '{"id":"x"}' })).reason).toBe('tools_locked');
    unlockTools(a);
    expect((await runConnectorTool({ tenant: a }, { name: 'mcp__crm__read_item', arguments: '{"id":"x"}' })).ok).toBe(true);
    const kinds = listAudit(a, { afterSeq: 0, limit: 2000 }).map((x) => x.kind);
    expect(kinds).toContain('connector.lock');
    expect(kinds).toContain('connector.unlock');
  }, 30_000);

  it('trips after too many refused calls', async () => {
    const a = fx.open('A');
    unlockTools(a);
    setGuardLimits(a, { maxCalls: 100, maxRefusals: 2 });
    const reasons = [];
    for (let i = 0; i < 4; i++) reasons.push((await runConnectorTool({ tenant: a }, { name: 'mcp__crm__read_item', arguments: '{"id":5}' })).reason);
    expect(reasons).toEqual(['invalid_arguments', 'invalid_arguments', 'invalid_arguments', 'tools_locked']);
    expect(readGuard(a).locked?.reason).toBe('refusals');
    unlockTools(a);
    setGuardLimits(a, { maxCalls: 40, maxRefusals: 8 });
  }, 30_000);
});

describe('without a sandbox', () => {
  it('a stdio connector runs only with the tenant’s explicit unsandboxed choice', async () => {
    const a = fx.open('A');
    addConnector(a, stdioConnector('plain', 'benign.mjs'));
    addConnector(a, stdioConnector('plainok', 'benign.mjs', {}, { unsandboxed: true }));
    process.env.BULKHEAD_NO_SANDBOX = '1';
    try {
      await expect(connectorHost(a).discover('plain')).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
      const r = await connectorHost(a).discover('plainok');
      expect(r.sandbox).toBe('none');
    } finally {
      delete process.env.BULKHEAD_NO_SANDBOX;
      removeConnector(a, 'plain');
      removeConnector(a, 'plainok');
    }
  }, 30_000);
});
