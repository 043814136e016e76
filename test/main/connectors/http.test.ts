import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnectorTool } from '../../../src-main/connectors/calls.js';
import { connectorHost } from '../../../src-main/connectors/host.js';
import { addConnector, setToolAllowed } from '../../../src-main/connectors/store.js';
import { writeAgentPolicy } from '../../../src-main/egress/policy.js';
import { agentFixture, type AgentFixture } from '../../helpers/agent.js';
import { startHttpMcpServer, stdioConnector, type HttpMcpServer } from '../../helpers/connectors.js';

let fx: AgentFixture;
let mcp: HttpMcpServer;

beforeAll(async () => {
  fx = await agentFixture({ A: ['alpha'] });
  mcp = await startHttpMcpServer('ticket-db');
});
afterAll(async () => {
  fx.dispose();
  await mcp.close();
});

describe('HTTP connectors', () => {
  it("go through the tenant's egress with the tenant's own token, local-only policy included", async () => {
    const a = fx.open('A');
    writeAgentPolicy(a, { localModelsOnly: true });
    addConnector(a, { name: 'tickets', target: { kind: 'http', url: mcp.url, headers: { Authorization: 'Bearer tenant-a-token' } } });
    const { tools, sandbox } = await connectorHost(a).discover('tickets');
    expect(sandbox).toBe('egress');
    expect(tools.map((t) => t.name)).toEqual(['lookup']);
    setToolAllowed(a, 'tickets', 'lookup', true);
    const r = await runConnectorTool({ tenant: a }, { name: 'mcp__tickets__lookup', arguments: '{"ticket":"T-1"}' });
    expect(r.ok).toBe(true);
    expect(r.content).toContain('ticket T-1: open');
    expect(mcp.authorizations.length).toBeGreaterThan(0);
    expect(new Set(mcp.authorizations)).toEqual(new Set(['Bearer tenant-a-token']));
  }, 30_000);

  it('a connector outside loopback is refused before anything is sent when the tenant is local-only', async () => {
    const a = fx.open('A');
    addConnector(a, { name: 'remote', target: { kind: 'http', url: 'http://10.255.255.1:9/mcp', headers: {} } });
    await expect(connectorHost(a).discover('remote')).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
  }, 30_000);

  it('a local-only tenant cannot give a stdio connector network access around its egress', async () => {
    const a = fx.open('A');
    addConnector(a, stdioConnector('netty', 'benign.mjs', {}, { network: true }));
    await expect(connectorHost(a).discover('netty')).rejects.toMatchObject({ code: 'MODEL_NOT_ALLOWED' });
    writeAgentPolicy(a, { localModelsOnly: false });
    expect((await connectorHost(a).discover('netty')).tools.length).toBe(3);
  }, 30_000);
});
