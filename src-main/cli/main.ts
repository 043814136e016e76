import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantSummary } from '../../src-shared/tenant.js';
import { engineVersions } from '../vault/sqlite.js';
import type { Vault } from '../vault/vault.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { readPassphrase } from './passphrase.js';
import { terminalJson, terminalText } from './terminal.js';
import { CommandExit, unlock, wrap, type Action } from './context.js';
import { registerKnowledgeCommands } from './knowledge.js';
import { registerLifecycleCommands } from './lifecycle.js';
import { registerAgentCommands } from './agent.js';
import { registerSamplesCommand } from './samples.js';
import { registerVerifyCommand } from './verify.js';
import { registerEndpointCommands } from './endpoints.js';
import { registerModelsCommands } from './models.js';
import { registerConnectorCommands } from './connectors.js';
import { registerMcpCommand } from './mcp.js';
import { registerWatchCommand } from './watch.js';
import { registerModelCommands } from './model.js';
import { registerRerankerCommands } from './reranker.js';
import { prefillNewTenant } from '../agent/tenant-model.js';

const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('bulkhead')
    .description('Bulkhead: one encrypted vault per client, from the command line')
    .version(VERSION)
    .addOption(new Option('--data-dir <dir>', 'data folder (default: BULKHEAD_DATA_DIR, else the per-user app-data folder)'))
    .option('--json', 'print one JSON value on stdout')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(terminalText(s)) });

  program
    .command('init')
    .description('create a vault in the data folder and set its passphrase')
    .action(
      wrap(async (vault) => {
        const pass = await readPassphrase({ confirm: true });
        await vault.initialize(pass);
        return { json: { dataDir: vault.paths.dataDir }, text: `Initialised a vault in ${vault.paths.dataDir}` };
      }),
    );

  const tenant = program.command('tenant').description('create, list, rename and delete client tenants');

  tenant
    .command('create')
    .argument('<name>', 'display name of the client')
    .description('create a tenant with its own encrypted file and key')
    .action(
      wrap(async (vault, _o, name) => {
        await unlock(vault);
        const t = vault.createTenant(name);
        const session = vault.openSession();
        try {
          prefillNewTenant(vault, session.open(t.id)); // the vault-wide defaults, never a key
        } finally {
          session.dispose();
        }
        return { json: t, text: `Created tenant "${t.name}" (${t.id})` };
      }),
    );

  tenant
    .command('list')
    .description('list tenants')
    .action(
      wrap(async (vault) => {
        await unlock(vault);
        const list = vault.listTenants();
        return { json: list, text: list.length === 0 ? 'No tenants yet: bulkhead tenant create NAME' : table(list) };
      }),
    );

  tenant
    .command('rename')
    .argument('<tenant>', 'current name or id')
    .argument('<new-name>', 'new display name')
    .description('rename a tenant (its file and key stay as they are)')
    .action(
      wrap(async (vault, _o, ref, name) => {
        await unlock(vault);
        const t = vault.renameTenant(vault.findTenant(ref!).id, name);
        return { json: t, text: `Renamed ${t.id} to "${t.name}"` };
      }),
    );

  tenant
    .command('delete')
    .argument('<tenant>', 'name or id')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .description('crypto-shred a tenant: destroy its key, then its files')
    .action(
      wrap(async (vault, opts, ref) => {
        await unlock(vault);
        const t = vault.findTenant(ref!);
        if (!(opts as { yes?: boolean }).yes) await confirmDeletion(t);
        const r = vault.deleteTenant(t.id);
        const text = [
          `Deleted tenant "${r.name}"`,
          `  tenant id:     ${r.tenantId}`,
          `  deleted at:    ${r.deletedAt}`,
          `  key destroyed: yes (its wrapped data key is erased; the files can no longer be decrypted)`,
          `  files removed: ${r.filesRemoved.join(', ') || 'none were left'}`,
        ].join('\n');
        return { json: r, text };
      }),
    );

  registerKnowledgeCommands(program);
  registerLifecycleCommands(program, tenant);
  registerAgentCommands(program);
  registerSamplesCommand(program);
  registerVerifyCommand(program, VERSION);
  registerEndpointCommands(program);
  registerModelsCommands(program);
  registerConnectorCommands(program);
  registerMcpCommand(program);
  registerWatchCommand(program);
  registerModelCommands(program);
  registerRerankerCommands(program);

  program
    .command('doctor')
    .description('report versions, the data folder and its health')
    .option('--deep', 'unlock and run a full integrity check of every tenant')
    .action(wrap(doctor));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    exitCode = report(err, argv.includes('--json'));
  }
  return exitCode;
}

async function confirmDeletion(t: TenantSummary): Promise<void> {
  if (!process.stdin.isTTY) throw new BulkheadError('INPUT_INVALID', 'deleting a tenant needs --yes when not run in a terminal');
  const { default: input } = await import('@inquirer/input');
  const typed = await input(
    { message: `This destroys "${terminalText(t.name)}" for good. Type its name to confirm:` },
    { input: process.stdin, output: process.stderr },
  );
  if (typed.trim() !== t.name) throw new BulkheadError('INPUT_INVALID', 'the name did not match; nothing was deleted');
}

const doctor: Action = async (vault, opts) => {
  const versions = engineVersions();
  const dir = vault.paths.dataDir;
  const modeOf = (p: string): string | null => (fs.existsSync(p) ? (fs.statSync(p).mode & 0o777).toString(8).padStart(4, '0') : null);
  const report: Record<string, unknown> = {
    bulkhead: VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    sqlite: versions.sqlite,
    cipher: versions.cipher,
    sqliteVec: versions.sqliteVec,
    dataDir: dir,
    state: vault.state,
    permissions: { dataDir: modeOf(dir), tenants: modeOf(vault.paths.tenants), keyring: modeOf(vault.paths.keyring) },
  };
  let healthy = true;
  if ((opts as { deep?: boolean }).deep && vault.state !== 'uninitialized') {
    await vault.unlock(await readPassphrase({ confirm: false }));
    report.state = vault.state;
    const tenants = vault.listTenants().map((t) => ({ id: t.id, name: t.name, ...vault.checkTenant(t.id) }));
    const orphans = vault.orphanFiles();
    healthy = tenants.every((t) => t.ok);
    Object.assign(report, { tenants, orphanFiles: orphans });
  }
  const lines = Object.entries(report)
    .filter(([k]) => k !== 'tenants' && k !== 'orphanFiles' && k !== 'permissions')
    .map(([k, v]) => `${k.padEnd(10)} ${String(v)}`);
  const perms = report.permissions as Record<string, string | null>;
  lines.push(
    `${'modes'.padEnd(10)} ${Object.entries(perms)
      .map(([k, v]) => `${k} ${v ?? '-'}`)
      .join(', ')}`,
  );
  for (const t of (report.tenants as { id: string; name: string; ok: boolean; detail: string }[] | undefined) ?? []) {
    lines.push(`${t.ok ? 'ok  ' : 'FAIL'}       ${t.name} (${t.id})${t.ok ? '' : `: ${t.detail}`}`);
  }
  for (const f of (report.orphanFiles as string[] | undefined) ?? []) lines.push(`orphan     tenants/${f} (no key in the registry; cannot be decrypted)`);
  if (!healthy) {
    process.stdout.write(opts.json ? `${terminalJson(report)}\n` : `${terminalText(lines.join('\n'))}\n`);
    throw new BulkheadError('TENANT_CORRUPT', 'one or more tenants failed the integrity check');
  }
  return { json: report, text: lines.join('\n') };
};

function table(list: TenantSummary[]): string {
  const width = Math.max(4, ...list.map((t) => t.name.length));
  return [`${'NAME'.padEnd(width)}  ${'ID'.padEnd(28)}  CREATED`, ...list.map((t) => `${t.name.padEnd(width)}  ${t.id}  ${t.createdAt}`)].join('\n');
}

/** One line on stderr (and a JSON error on stdout with --json); returns the exit code. */
function report(err: unknown, json: boolean): number {
  if (err instanceof CommandExit) return err.exitCode;
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
    if (json) process.stdout.write(`${terminalJson({ error: { code: 'INPUT_INVALID', message: err.message } }, 0)}\n`);
    return EXIT.usage; // commander already printed its one line
  }
  if (err instanceof BulkheadError) {
    process.stderr.write(`bulkhead: ${oneLine(err.message)} [${err.code}]\n`);
    if (json) process.stdout.write(`${terminalJson({ error: { code: err.code, message: err.message } }, 0)}\n`);
    return exitCodeFor(err.code);
  }
  const message = err instanceof Error ? err.message : String(err);
  if ((err as { name?: string }).name === 'ExitPromptError') {
    process.stderr.write('bulkhead: cancelled\n');
    return EXIT.failure;
  }
  process.stderr.write(`bulkhead: unexpected error: ${oneLine(message)} [INTERNAL]\n`);
  if (json) process.stdout.write(`${terminalJson({ error: { code: 'INTERNAL', message } }, 0)}\n`);
  return EXIT.failure;
}

function oneLine(s: string): string {
  return terminalText(s).replace(/\s+/g, ' ').trim();
}
