import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnectorTool } from '../../../src-main/connectors/calls.js';
import { connectorHost } from '../../../src-main/connectors/host.js';
import { sandboxKind } from '../../../src-main/connectors/sandbox.js';
import { addConnector, setToolAllowed } from '../../../src-main/connectors/store.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { agentFixture, type AgentFixture } from '../../helpers/agent.js';
import { processesWith, stdioConnector, until } from '../../helpers/connectors.js';

// The hostile fixture server tries every way out; under bwrap each fails, and the same server run
// without the sandbox (the control) shows the attempts are real ones.

type Report = Record<string, { ok: boolean; detail: string }>;

let fx: AgentFixture;
let listener: net.Server;
let connections = 0;
let targets: Record<string, unknown>;

beforeAll(async () => {
  fx = await agentFixture({ A: ['alpha'], B: ['bravo secret'] });
  listener = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const tenants = path.join(fx.dir, 'tenants');
  const other = fs.readdirSync(tenants).find((f) => f.startsWith(fx.ids.B!) && f.endsWith('.bulkhead'))!;
  targets = {
    home: os.homedir(),
    dataDir: fx.dir,
    keyring: fx.vault.paths.keyring,
    otherTenantFile: path.join(tenants, other),
    port: (listener.address() as net.AddressInfo).port,
  };
  const a = fx.open('A');
  const env = { HOSTILE_TARGETS: JSON.stringify(targets) };
  addConnector(a, stdioConnector('hostile', 'hostile.mjs', env, { limits: { cpuSeconds: 2, timeoutMs: 20_000 } }));
  addConnector(a, stdioConnector('control', 'hostile.mjs', env, { unsandboxed: true }));
  for (const name of ['hostile', 'control']) {
    await connectorHost(a).discover(name);
    setToolAllowed(a, name, '*', true);
  }
  process.env.BULKHEAD_PASSPHRASE = 'correct horse battery staple';
}, 30_000);

afterAll(async () => {
  delete process.env.BULKHEAD_PASSPHRASE;
  fx.dispose();
  await new Promise<void>((r) => listener.close(() => r()));
});

async function probe(t: TenantHandle, name: string): Promise<{ report: Report; result: string }> {
  const r = await runConnectorTool({ tenant: t }, { name: `mcp__${name}__probe`, arguments: '{}' });
  expect(r.ok).toBe(true);
  const result = JSON.parse(r.content).result as string;
  const line = result.split('\n')[1]!;
  return { report: JSON.parse(line) as Report, result };
}

describe('the stdio sandbox (bwrap)', () => {
  it('is what runs here', () => {
    expect(sandboxKind()).toBe('bwrap');
  });

  it('every escape of the hostile server fails inside it, and is reported by the server itself', async () => {
    const a = fx.open('A');
    const before = connections;
    const { report, result } = await probe(a, 'hostile');
    for (const key of ['ssh', 'home', 'dataDir', 'keyring', 'otherTenant', 'writeDataDir', 'shell', 'bash', 'tcp']) {
      expect({ key, ...report[key] }).toMatchObject({ key, ok: false });
    }
    expect(report.envPassphrase).toEqual({ ok: false, detail: 'absent' });
    expect(report.ownFolder).toEqual({ ok: true, detail: 'ok' }); // its own folder is the one writable place
    expect(connections).toBe(before);
    expect(fs.existsSync(path.join(fx.dir, 'pwned'))).toBe(false);
    // The injected instructions stay inside the untrusted fence; the fake closing tag is defused.
    expect(result.startsWith('<tool_result connector="hostile" tool="probe" trust="untrusted">')).toBe(true);
    expect(result.match(/<\/tool_result>/g)).toHaveLength(1);
    expect(result).toContain('‹/tool_result>');
  }, 30_000);

  it('the control: the same server without the sandbox reaches what the sandbox hid', async () => {
    const a = fx.open('A');
    const before = connections;
    // "unsandboxed" is only taken where no sandbox exists: make it so for this one start.
    await connectorHost(a).stop(connectorHost(a).idOf('control'));
    process.env.BULKHEAD_NO_SANDBOX = '1';
    let report: Report;
    try {
      ({ report } = await probe(a, 'control'));
    } finally {
      delete process.env.BULKHEAD_NO_SANDBOX;
    }
    expect(report.dataDir!.ok).toBe(true);
    expect(report.otherTenant!.ok).toBe(true);
    expect(report.tcp!.ok).toBe(true);
    expect(report.home!.ok).toBe(true);
    expect(await until(() => connections > before)).toBe(true);
    fs.rmSync(path.join(fx.dir, 'pwned'), { force: true });
  }, 30_000);

  it('a flood of output stops the server and is reported; the next call starts it again', async () => {
    const a = fx.open('A');
    const r = await runConnectorTool({ tenant: a }, { name: 'mcp__hostile__flood', arguments: '{}' });
    expect(r.reason).toBe('connector_failed');
    expect(JSON.parse(r.content).message).toMatch(/larger than its cap|more output than its cap/);
    const again = await runConnectorTool({ tenant: a }, { name: 'mcp__hostile__probe', arguments: '{}' });
    expect(again.ok).toBe(true);
  }, 30_000);

  it('a server that burns CPU is killed by its CPU-time cap', async () => {
    const a = fx.open('A');
    const r = await runConnectorTool({ tenant: a }, { name: 'mcp__hostile__spin', arguments: '{}' });
    expect(r.reason).toBe('connector_failed');
    expect(JSON.parse(r.content).message).toMatch(/exited/);
  }, 40_000);

  it('a child the server leaves running (detached) dies with the tenant', async () => {
    const a = fx.open('A');
    const r = await runConnectorTool({ tenant: a }, { name: 'mcp__hostile__spawn_child', arguments: '{}' });
    expect(r.ok).toBe(true);
    const marker = 'setInterval(() => {}, 1000)';
    expect(processesWith(marker).length).toBeGreaterThan(0);
    fx.open('B');
    expect(await until(() => processesWith(marker).length === 0)).toBe(true);
  }, 30_000);
});
