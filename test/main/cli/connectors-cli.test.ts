import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../../src-main/vault/audit-chain.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { embedder } from '../../helpers/agent.js';
import { FIXTURES, NODE_MODULES } from '../../helpers/connectors.js';
import { storeChunks } from '../../helpers/retrieval.js';
import { freshVault, tempDir, TEST_PASSPHRASE } from '../../helpers/vault.js';

// The CLI in a child process (dist, built by npm test, like the other CLI tests).
const BIN = path.resolve('bin/bulkhead.js');
const CANARY = 'cli-canary-7f3a91';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;

beforeAll(async () => {
  dir = tempDir('bulkhead-conn-cli-');
  const vault = await freshVault(dir);
  const session = vault.openSession();
  await storeChunks(session.open(vault.createTenant('Acme').id), embedder, ['Acme quarterly report: revenue grew in the north.']);
  await storeChunks(session.open(vault.createTenant('Birch').id), embedder, ['Birch secret merger plan with Zephyr.']);
  vault.lock();
}, 30_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bulkhead connectors', () => {
  it('add, list, tools, allow, deny, test, remove: per tenant, secrets never printed, typed exit codes', async () => {
    const add = await cli(
      dir,
      [
        '--json',
        'connectors',
        'add',
        'crm',
        '--tenant',
        'Acme',
        '--command',
        process.execPath,
        '--arg',
        path.join(FIXTURES, 'benign.mjs'),
        '--read',
        FIXTURES,
        '--read',
        NODE_MODULES,
        '--env',
        'CONNECTOR_TOKEN',
      ],
      { CONNECTOR_TOKEN: CANARY },
    );
    expect(add.code).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'crm', kind: 'stdio', envNames: ['CONNECTOR_TOKEN'], sandbox: 'bwrap', network: false });
    expect(add.stdout + add.stderr).not.toContain(CANARY);

    const other = await cli(dir, ['--json', 'connectors', 'list', '--tenant', 'Birch']);
    expect(JSON.parse(other.stdout).connectors).toEqual([]);

    const tools = await cli(dir, ['--json', 'connectors', 'tools', 'crm', '--tenant', 'Acme']);
    expect(tools.code).toBe(0);
    expect(JSON.parse(tools.stdout).tools.map((t: { name: string; allowed: boolean }) => [t.name, t.allowed])).toEqual([
      ['read_item', false],
      ['whoami', false],
      ['write_item', false],
    ]);

    const allow = await cli(dir, ['--json', 'connectors', 'allow', 'crm', 'whoami', '--tenant', 'Acme']);
    expect(JSON.parse(allow.stdout).tools.find((t: { name: string }) => t.name === 'whoami').allowed).toBe(true);
    const deny = await cli(dir, ['--json', 'connectors', 'deny', 'crm', '*', '--tenant', 'Acme']);
    expect(JSON.parse(deny.stdout).tools.every((t: { allowed: boolean }) => !t.allowed)).toBe(true);

    const test = await cli(dir, ['connectors', 'test', 'crm', '--tenant', 'Acme']);
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/^ok: "crm" answered in \d+ ms \(sandbox: bwrap\), 3 tools/);

    const codes = await Promise.all([
      cli(dir, ['connectors', 'allow', 'crm', 'nope', '--tenant', 'Acme']),
      cli(dir, ['connectors', 'remove', 'nope', '--tenant', 'Acme']),
      cli(dir, ['connectors', 'add', 'Bad Name', '--tenant', 'Acme', '--url', 'http://127.0.0.1:1/mcp']),
      cli(dir, ['connectors', 'add', 'x', '--tenant', 'Acme']),
    ]);
    expect(codes.map((r) => r.code)).toEqual([2, 4, 2, 2]);

    const unlock = await cli(dir, ['--json', 'connectors', 'unlock', '--tenant', 'Acme']);
    expect(JSON.parse(unlock.stdout)).toEqual({ wasLocked: false, locked: false });
    const removed = await cli(dir, ['--json', 'connectors', 'remove', 'crm', '--tenant', 'Acme']);
    expect(removed.code).toBe(0);
    expect(JSON.parse((await cli(dir, ['--json', 'connectors', 'list', '--tenant', 'Acme'])).stdout).connectors).toEqual([]);
  }, 300_000);
});

describe('bulkhead mcp', () => {
  it("serves one tenant's search and documents to an SDK client over stdio: read-only, audited in that tenant", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, '--data-dir', dir, 'mcp', '--tenant', 'Acme'],
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'external-agent', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['list_documents', 'read_document', 'search_knowledge']);
      expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
      const found = await client.callTool({ name: 'search_knowledge', arguments: { query: 'revenue north' } });
      expect(JSON.stringify(found.content)).toContain('revenue grew');
      const other = await client.callTool({ name: 'search_knowledge', arguments: { query: 'merger Zephyr' } });
      expect(JSON.stringify(other.content)).not.toContain('Zephyr plan');
      expect(JSON.stringify(other.content)).not.toContain('merger plan');
      const write = await client.callTool({ name: 'save_note', arguments: { title: 't', body: 'b' } });
      expect(write.isError).toBe(true);
      const list = await client.callTool({ name: 'list_documents', arguments: {} });
      expect(JSON.stringify(list.content)).not.toContain('Birch');
    } finally {
      await client.close();
    }
    const vault = new Vault(dir);
    await vault.unlock(TEST_PASSPHRASE);
    const session = vault.openSession();
    const acme = session.open(vault.findTenant('Acme').id);
    const kinds = listAudit(acme, { afterSeq: 0, limit: 1000 }).map((r) => r.kind);
    expect(kinds).toContain('mcp.serve');
    expect(kinds.filter((k) => k === 'mcp.call')).toHaveLength(3);
    expect(verifyAudit(acme).ok).toBe(true);
    const birch = session.open(vault.findTenant('Birch').id);
    expect(listAudit(birch, { afterSeq: 0, limit: 1000 }).map((r) => r.kind)).not.toContain('mcp.serve');
    vault.lock();
  }, 120_000);
});
