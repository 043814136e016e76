import fs from 'node:fs';
import { BulkheadError } from '../../src-shared/errors.js';
import { errorCode, openAppLog, silentLog, type AppLog } from '../log/logger.js';
import { reviewStoredEndpoints } from '../agent/endpoints.js';
import { migrateTenantModel } from '../agent/tenant-model.js';
import type { TenantHandle } from '../vault/handle.js';
import { resolveDataDir } from '../vault/paths.js';
import { Vault } from '../vault/vault.js';
import { resolveModelsDir } from '../models/library.js';
import { disposeModelRuntime, useModelLibrary } from '../models/shared.js';
import type { RuntimeOptions } from '../models/runtime.js';
import { readPassphrase } from './passphrase.js';
import { terminalJson, terminalText } from './terminal.js';
import type { Command } from 'commander';

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
}

/** What a command prints: an object for --json, lines for people. */
export interface Output {
  json: unknown;
  text: string;
  /** A non-zero exit for a command that printed its result but did not fully succeed. */
  exitCode?: number;
}

/** Thrown after the output is printed, to end the command with `exitCode` (see main's report). */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export type Action = (vault: Vault, opts: GlobalOptions, ...args: string[]) => Promise<Output>;

/** Runs a command against a vault that is locked again (keys zeroed) whatever happens. */
export const wrap =
  (action: Action) =>
  async (...raw: unknown[]): Promise<void> => {
    const cmd = raw.at(-1) as Command;
    const opts = cmd.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
    // Positional arguments, a variadic one flattened in place (`ingest PATH...`); an optional one
    // not given stays out (never the string "undefined").
    const args = raw
      .slice(0, -2)
      .flat()
      .filter((a) => a !== undefined)
      .map(String);
    const dataDir = resolveDataDir(opts.dataDir);
    const log = await openCommandLog(dataDir);
    const command = commandName(cmd);
    const vault = new Vault(dataDir, { log });
    // The library a tenant's built-in choices name (`models --models-dir` names another for its own commands).
    useModelLibrary(resolveModelsDir(dataDir, typeof opts.modelsDir === 'string' ? opts.modelsDir : undefined), { onEvent: loadProgress() });
    log.info('cli.start', { command });
    try {
      const result = await action(vault, { ...opts, ...cmd.opts() }, ...args);
      process.stdout.write(opts.json ? `${terminalJson(result.json)}\n` : `${terminalText(result.text)}\n`);
      log.info('cli.done', { command });
      if (result.exitCode) throw new CommandExit(result.exitCode);
    } catch (err) {
      if (err instanceof CommandExit) throw err;
      log.warn('cli.failed', { command, code: errorCode(err) });
      throw err;
    } finally {
      vault.lock();
      await disposeModelRuntime();
      await log.close();
    }
  };

/** Weights loading, on a terminal's stderr (every 10%): what the console's Settings shows as a bar. */
function loadProgress(): RuntimeOptions['onEvent'] {
  if (!process.stderr.isTTY) return undefined;
  let shown = -1;
  return (e) => {
    if (e.type === 'load' && Math.floor(e.progress * 10) > shown) {
      shown = Math.floor(e.progress * 10);
      process.stderr.write(`loading ${e.model}: ${shown * 10}%\n`);
    } else if (e.type === 'loaded') process.stderr.write(`loaded ${e.model} in ${e.loadMs.toFixed(0)} ms\n`);
  };
}

/** The app log of the data folder, once the folder exists (a command never creates it just to log). */
async function openCommandLog(dataDir: string): Promise<AppLog> {
  if (!fs.existsSync(dataDir)) return silentLog;
  try {
    return await openAppLog(dataDir);
  } catch {
    return silentLog; // a log that cannot be written must not stop the command
  }
}

function commandName(cmd: Command): string {
  const parts: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) parts.unshift(c.name());
  return parts.join('.');
}

export async function unlock(vault: Vault): Promise<void> {
  if (vault.state === 'uninitialized') {
    throw new BulkheadError('NOT_INITIALIZED', `no vault in ${vault.paths.dataDir}: run \`bulkhead init\` first`);
  }
  await vault.unlock(await readPassphrase({ confirm: false }));
}

/** Unlocks and opens the tenant named by --tenant (name or id) in a one-tenant session. */
export async function openTenant(vault: Vault, ref: unknown): Promise<TenantHandle> {
  if (typeof ref !== 'string' || ref.trim() === '') throw new BulkheadError('INPUT_INVALID', 'say which tenant: --tenant NAME');
  await unlock(vault);
  const tenant = vault.openSession().open(vault.findTenant(ref).id);
  migrateTenantModel(vault, tenant); // the one-time copy of the former vault-wide model settings
  // Stored endpoints that break the tenant's policy are held (the egress sends them nothing) until confirmed.
  await reviewStoredEndpoints(tenant);
  return tenant;
}
