import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { resolveDataDir } from '../vault/paths.js';
import { Vault } from '../vault/vault.js';
import { readPassphrase } from './passphrase.js';
import type { Command } from 'commander';

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
}

/** What a command prints: an object for --json, lines for people. */
export interface Output {
  json: unknown;
  text: string;
}

export type Action = (vault: Vault, opts: GlobalOptions, ...args: string[]) => Promise<Output>;


/** Runs a command against a vault that is locked again (keys zeroed) whatever happens. */
export const wrap =
  (action: Action) =>
  async (...raw: unknown[]): Promise<void> => {
    const cmd = raw.at(-1) as Command;
    const opts = cmd.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
    // Positional arguments, a variadic one flattened in place (`ingest PATH...`).
    const args = raw.slice(0, -2).flat().map(String);
    const vault = new Vault(resolveDataDir(opts.dataDir));
    try {
      const result = await action(vault, { ...opts, ...cmd.opts() }, ...args);
      process.stdout.write(opts.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    } finally {
      vault.lock();
    }
  };

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
  return vault.openSession().open(vault.findTenant(ref).id);
}
