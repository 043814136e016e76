// The contract's view of a tenant's tool connectors (MCP servers): what the console shows and
// sends. Credentials go in (env values, header values) and never come back out: views carry names.
import { z } from 'zod';

export const ConnectorToolView = z.object({ name: z.string(), allowed: z.boolean(), readOnly: z.boolean(), changed: z.boolean() });

export const ConnectorViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['stdio', 'http']),
  target: z.string(),
  network: z.boolean(),
  sandbox: z.string(),
  envNames: z.array(z.string()),
  headerNames: z.array(z.string()),
  tools: z.array(ConnectorToolView),
  running: z.boolean(),
});
export type ConnectorViewData = z.infer<typeof ConnectorViewSchema>;

export const ConnectorsOverviewSchema = z.object({
  connectors: z.array(ConnectorViewSchema),
  guard: z.object({
    locked: z.object({ at: z.string(), reason: z.enum(['calls', 'refusals']), count: z.number().int() }).nullable(),
    maxCalls: z.number().int(),
    maxRefusals: z.number().int(),
    windowSeconds: z.number().int(),
  }),
  sandboxAvailable: z.boolean(),
});
export type ConnectorsOverviewData = z.infer<typeof ConnectorsOverviewSchema>;

const ConnectorId = z.string().regex(/^c_[0-9a-f]{16}$/, 'not a connector id');
const Pairs = z.record(z.string().max(64), z.string().max(4000));

export const ConnectorAddInput = z.strictObject({
  name: z.string().trim().min(1).max(24),
  target: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('stdio'),
      command: z.string().min(1).max(1000),
      args: z.array(z.string().max(4000)).max(64).default([]),
      env: Pairs.default({}),
      readOnlyPaths: z.array(z.string().max(1000)).max(32).default([]),
      network: z.boolean().default(false),
      unsandboxed: z.boolean().default(false),
    }),
    z.strictObject({ kind: z.literal('http'), url: z.string().max(2000), headers: Pairs.default({}) }),
  ]),
});

export const connectorCalls = {
  'connectors.list': { input: z.strictObject({}), output: ConnectorsOverviewSchema },
  'connectors.add': { input: ConnectorAddInput, output: ConnectorViewSchema },
  'connectors.remove': { input: z.strictObject({ connectorId: ConnectorId }), output: z.object({ connectorId: z.string() }) },
  /** Starts the connector (sandboxed), lists its tools (new ones off), stops it. */
  'connectors.test': {
    input: z.strictObject({ connectorId: ConnectorId }),
    output: z.object({ ok: z.boolean(), detail: z.string(), connector: ConnectorViewSchema }),
  },
  'connectors.setTool': {
    input: z.strictObject({ connectorId: ConnectorId, tool: z.string().min(1).max(128), allowed: z.boolean() }),
    output: ConnectorViewSchema,
  },
  /** After the burst guard locked the tool path: the user reviewed and unlocks it. */
  'connectors.unlock': { input: z.strictObject({}), output: ConnectorsOverviewSchema },
} as const;
