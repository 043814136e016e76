import path from 'node:path';
import { z } from 'zod';

// A tenant's tool connectors (MCP servers) as they are stored in its own file (tenant_meta, sealed
// with its key): what to run or reach, the credentials it needs, and what it may do.

/** Lower-case letters, digits and dashes: it becomes part of the tool names the model sees. */
export const ConnectorName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,23}$/, 'a connector name is 1-24 lower-case letters, digits or dashes, starting with a letter or digit');

const AbsolutePath = z
  .string()
  .min(1)
  .max(1000)
  .refine((p) => path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), 'an absolute path without ".."');

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'an environment variable name');
const HeaderName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name');
const Secret = z.string().max(4000);

export const Limits = z
  .object({
    /** CPU seconds for the server process (RLIMIT_CPU). */
    cpuSeconds: z.number().int().min(1).max(86_400).default(60),
    /** Address space of the server process (RLIMIT_AS), MiB. Node needs a few GiB of it. */
    memoryMiB: z.number().int().min(64).max(65_536).default(8192),
    /** Bytes the server may write to us over its whole life (stdout); beyond it, it is stopped. */
    outputBytes: z
      .number()
      .int()
      .min(4096)
      .max(1 << 30)
      .default(32 * 1024 * 1024),
    /** The largest one message (a JSON-RPC line) may be. */
    messageBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    /** One call's time. */
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  })
  .strict();
export type Limits = z.infer<typeof Limits>;

export const StdioTarget = z
  .object({
    kind: z.literal('stdio'),
    command: AbsolutePath,
    args: z.array(z.string().max(4000)).max(64).default([]),
    /** Credentials and settings the server reads from its environment: the only variables it gets. */
    env: z.record(EnvName, Secret).default({}),
    /** Host paths the server may read (its script, its libraries), bound read-only at the same place. */
    readOnlyPaths: z.array(AbsolutePath).max(32).default([]),
    /** Network access for this connector; off unless the tenant allows it. */
    network: z.boolean().default(false),
    /** Run without a sandbox where none is available: an explicit, per-tenant choice shown as a warning. */
    unsandboxed: z.boolean().default(false),
  })
  .strict();

export const HttpTarget = z
  .object({
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'a connector URL is an http:// or https:// address' }).max(2000),
    /** Sent with every request (tokens, API keys). */
    headers: z.record(HeaderName, Secret).default({}),
  })
  .strict();

export const ConnectorTarget = z.discriminatedUnion('kind', [StdioTarget, HttpTarget]);
export type ConnectorTarget = z.infer<typeof ConnectorTarget>;

export const ConnectorInput = z
  .object({
    name: ConnectorName,
    target: ConnectorTarget,
    limits: Limits.default(Limits.parse({})),
  })
  .strict();
export type ConnectorInput = z.input<typeof ConnectorInput>;

export const Connector = z
  .object({
    id: z.string().regex(/^c_[0-9a-f]{16}$/),
    name: ConnectorName,
    target: ConnectorTarget,
    limits: Limits,
    createdAt: z.string(),
  })
  .strict();
export type Connector = z.infer<typeof Connector>;

/** A tool a connector declared, as last listed, and whether this tenant allows it. */
export const ToolRecord = z
  .object({
    name: z.string().min(1).max(128),
    description: z.string().max(4000),
    inputSchema: z.record(z.string(), z.unknown()),
    /** The server's readOnlyHint: only such tools run without the user's confirmation. */
    readOnly: z.boolean(),
    /** Hash of the declaration; a change turns the tool off until it is allowed again. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    allowed: z.boolean(),
    changed: z.boolean().default(false),
  })
  .strict();
export type ToolRecord = z.infer<typeof ToolRecord>;

/** What the UI and CLI show: names of secrets, never their values. */
export interface ConnectorView {
  id: string;
  name: string;
  kind: 'stdio' | 'http';
  /** The command line or the URL. */
  target: string;
  network: boolean;
  sandbox: 'bwrap' | 'none (unsandboxed, by the tenant’s choice)' | 'none available' | 'egress';
  envNames: string[];
  headerNames: string[];
  tools: { name: string; allowed: boolean; readOnly: boolean; changed: boolean }[];
  running: boolean;
}

export function describeTarget(t: ConnectorTarget): string {
  return t.kind === 'stdio' ? [t.command, ...t.args].join(' ') : t.url;
}
