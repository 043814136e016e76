import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import type { ConnectorView } from '../connectors/config.js';
import { unlockTools } from '../connectors/guard.js';
import { connectorHost } from '../connectors/host.js';
import { addConnector, getConnector, removeConnector, setToolAllowed } from '../connectors/store.js';
import { connectorsOverview, connectorView } from '../connectors/view.js';
import { openTenant, wrap } from './context.js';
import { printable } from './agent.js';

// `bulkhead connectors …`: a tenant's MCP servers, their tools and the tool path's lock.

interface AddOpts {
  tenant?: string;
  command?: string;
  arg?: string[];
  url?: string;
  env?: string[];
  header?: string[];
  read?: string[];
  network?: boolean;
  unsandboxed?: boolean;
  cpuSeconds?: string;
  memoryMib?: string;
  timeoutMs?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `K=V`, or `K` alone to take the value from this process's environment (kept off the command line). */
function pairs(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? process.env[item] : item.slice(eq + 1);
    if (value === undefined) throw new BulkheadError('INPUT_INVALID', `${what} ${key}: no value given and none in the environment`);
    out[key] = value;
  }
  return out;
}

function int(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new BulkheadError('INPUT_INVALID', `${what} is a whole number`);
  return n;
}

function viewLines(v: ConnectorView): string[] {
  const warn = v.sandbox.startsWith('none') ? '  WARNING: runs without a sandbox' : '';
  return [
    printable(`${v.name} (${v.id}) ${v.kind}: ${v.target}`),
    `  sandbox ${v.sandbox}; network ${v.network ? 'allowed' : 'none'}; ${v.running ? 'running' : 'stopped'}${warn}`,
    ...(v.envNames.length ? [`  env ${v.envNames.join(', ')}`] : []),
    ...(v.headerNames.length ? [`  headers ${v.headerNames.join(', ')}`] : []),
    ...v.tools.map((t) =>
      printable(
        `  ${t.allowed ? 'allowed' : 'off    '} ${t.readOnly ? 'read-only' : 'confirms '} ${t.name}${t.changed ? ' (declaration changed: review and allow again)' : ''}`,
      ),
    ),
  ];
}

export function registerConnectorCommands(program: Command): void {
  const group = program.command('connectors').description("a tenant's tool connectors (MCP servers): add, list, test, allow tools, unlock");

  group
    .command('add')
    .argument('<name>', 'connector name (lower-case letters, digits, dashes)')
    .requiredOption('--tenant <name>', 'tenant name or id')
    .option('--command <path>', 'stdio server: absolute path of the program to run')
    .option('--arg <value>', 'stdio server: one argument (repeat)', collect)
    .option('--url <url>', 'Streamable HTTP server URL')
    .option('--env <K[=V]>', 'environment value for the server (repeat; K alone takes it from your environment)', collect)
    .option('--header <K[=V]>', 'HTTP header (repeat; K alone takes it from your environment)', collect)
    .option('--read <path>', 'a path the sandboxed server may read (repeat)', collect)
    .option('--network', 'let this stdio server use the network')
    .option('--unsandboxed', 'run it without a sandbox where none is available (shown as a warning)')
    .option('--cpu-seconds <n>', 'CPU time cap')
    .option('--memory-mib <n>', 'address space cap')
    .option('--timeout-ms <n>', 'time cap of one call')
    .description("add a connector to a tenant (stored sealed in the tenant's file)")
    .action(
      wrap(async (vault, opts, name) => {
        const o = opts as AddOpts;
        if (Boolean(o.command) === Boolean(o.url)) throw new BulkheadError('INPUT_INVALID', 'give either --command (stdio) or --url (HTTP)');
        const t = await openTenant(vault, o.tenant);
        const limits = Object.fromEntries(
          Object.entries({
            cpuSeconds: int(o.cpuSeconds, '--cpu-seconds'),
            memoryMiB: int(o.memoryMib, '--memory-mib'),
            timeoutMs: int(o.timeoutMs, '--timeout-ms'),
          }).filter(([, v]) => v !== undefined),
        );
        const target = o.command
          ? {
              kind: 'stdio',
              command: o.command,
              args: o.arg ?? [],
              env: pairs(o.env, '--env'),
              readOnlyPaths: o.read ?? [],
              network: Boolean(o.network),
              unsandboxed: Boolean(o.unsandboxed),
            }
          : { kind: 'http', url: o.url, headers: pairs(o.header, '--header') };
        const c = addConnector(t, { name, target, limits });
        const v = connectorView(t, c);
        return {
          json: v,
          text: [
            `Added connector "${c.name}" to tenant "${t.name}"; its tools are off until you allow them (connectors tools, connectors allow).`,
            ...viewLines(v),
          ].join('\n'),
        };
      }),
    );

  group
    .command('list')
    .requiredOption('--tenant <name>', 'tenant name or id')
    .description("list a tenant's connectors, their tools and the tool path's state")
    .action(
      wrap(async (vault, opts) => {
        const t = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const o = connectorsOverview(t);
        const lines =
          o.connectors.length === 0 ? ['No connectors: bulkhead connectors add NAME --tenant T --command PATH | --url URL'] : o.connectors.flatMap(viewLines);
        if (!o.sandboxAvailable) lines.push('WARNING: no sandbox (bubblewrap) on this machine: stdio connectors run only if marked --unsandboxed');
        if (o.guard.locked)
          lines.push(
            `TOOLS LOCKED since ${o.guard.locked.at} (${o.guard.locked.count} ${o.guard.locked.reason} in 5 minutes): review, then bulkhead connectors unlock --tenant T`,
          );
        return { json: o, text: lines.join('\n') };
      }),
    );

  group
    .command('remove')
    .argument('<name>', 'connector name or id')
    .requiredOption('--tenant <name>', 'tenant name or id')
    .description('remove a connector and its credentials from a tenant')
    .action(
      wrap(async (vault, opts, name) => {
        const t = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const c = removeConnector(t, name!);
        return { json: { removed: c.id, name: c.name }, text: `Removed connector "${c.name}"` };
      }),
    );

  for (const [cmd, description] of [
    ['test', 'start a connector in its sandbox, list its tools, stop it'],
    ['tools', "list a connector's tools (it is started to ask) and which are allowed"],
  ] as const) {
    group
      .command(cmd)
      .argument('<name>', 'connector name or id')
      .requiredOption('--tenant <name>', 'tenant name or id')
      .description(description)
      .action(
        wrap(async (vault, opts, name) => {
          const t = await openTenant(vault, (opts as { tenant?: string }).tenant);
          const started = Date.now();
          const r = await connectorHost(t).discover(name!);
          const ms = Date.now() - started;
          await connectorHost(t).stop(r.connector.id);
          const v = connectorView(t, getConnector(t, r.connector.id));
          const head = cmd === 'test' ? [`ok: "${v.name}" answered in ${ms} ms (sandbox: ${r.sandbox}), ${r.tools.length} tools`] : [];
          return { json: { ...v, sandbox: r.sandbox, ms }, text: [...head, ...viewLines(v)].join('\n') };
        }),
      );
  }

  for (const [cmd, allowed] of [
    ['allow', true],
    ['deny', false],
  ] as const) {
    group
      .command(cmd)
      .argument('<name>', 'connector name or id')
      .argument('<tool>', "the tool's name, or '*' for all of them")
      .requiredOption('--tenant <name>', 'tenant name or id')
      .description(allowed ? 'let the model call this tool in this tenant' : 'stop the model calling this tool in this tenant')
      .action(
        wrap(async (vault, opts, name, tool) => {
          const t = await openTenant(vault, (opts as { tenant?: string }).tenant);
          setToolAllowed(t, name!, tool!, allowed);
          const v = connectorView(t, getConnector(t, name!));
          return { json: v, text: viewLines(v).join('\n') };
        }),
      );
  }

  group
    .command('unlock')
    .requiredOption('--tenant <name>', 'tenant name or id')
    .description("unlock a tenant's tool path after the burst guard locked it (review its audit first)")
    .action(
      wrap(async (vault, opts) => {
        const t = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const before = connectorsOverview(t).guard.locked;
        unlockTools(t);
        return {
          json: { wasLocked: before !== null, locked: false },
          text: before ? `Unlocked the tool path of "${t.name}"` : `The tool path of "${t.name}" was not locked`,
        };
      }),
    );
}
