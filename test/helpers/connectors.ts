import fs from 'node:fs';
import path from 'node:path';
import type { ConnectorInput } from '../../src-main/connectors/config.js';

// The MCP servers of test/fixtures/connectors (written with the official SDK), as a tenant's
// stdio connectors: node runs the script; the sandbox may read the script and node_modules only.

export const FIXTURES = path.resolve('test/fixtures/connectors');
export const NODE_MODULES = path.resolve('node_modules');

export function stdioConnector(
  name: string,
  script: string,
  env: Record<string, string> = {},
  extra: { network?: boolean; unsandboxed?: boolean; limits?: Record<string, number> } = {},
): ConnectorInput {
  return {
    name,
    target: {
      kind: 'stdio',
      command: process.execPath,
      args: [path.join(FIXTURES, script)],
      env,
      readOnlyPaths: [FIXTURES, NODE_MODULES],
      network: extra.network ?? false,
      unsandboxed: extra.unsandboxed ?? false,
    },
    ...(extra.limits ? { limits: extra.limits as never } : {}),
  };
}

/** Processes whose command line contains `marker` (their /proc entries), zombies excluded. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.includes(marker) && state !== 'Z') out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

export interface HttpMcpServer {
  url: string;
  /** The Authorization header of every request, in order. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/** A Streamable HTTP MCP server (official SDK, stateless) on 127.0.0.1 with one read-only tool. */
export async function startHttpMcpServer(secret: string): Promise<HttpMcpServer> {
  const http = await import('node:http');
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const { z } = await import('zod');
  const authorizations: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const mcp = new McpServer({ name: 'http-fixture', version: '1.0.0' });
    mcp.registerTool(
      'lookup',
      { description: 'Look up a ticket.', inputSchema: { ticket: z.string() }, annotations: { readOnlyHint: true } },
      async ({ ticket }) => ({
        content: [{ type: 'text', text: `ticket ${ticket}: open (${secret})` }],
      }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => mcp.close()));
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
