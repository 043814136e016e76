import type { Command } from 'commander';
import { ConsoleSession } from '../api/session.js';
import { createSampleTenants } from '../api/samples.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { wrap } from './context.js';
import { readPassphrase } from './passphrase.js';

/** `bulkhead samples`: the console's first-run sample clients, from the command line. */
export function registerSamplesCommand(program: Command): void {
  program
    .command('samples')
    .description('create the two sample clients with their sample documents (what the console offers on first run)')
    .action(
      wrap(async (vault) => {
        if (vault.state === 'uninitialized') {
          throw new BulkheadError('NOT_INITIALIZED', `no vault in ${vault.paths.dataDir}: run \`bulkhead init\` first`);
        }
        // The console's own code path (uploads and all), on a session of its own.
        const session = new ConsoleSession({ dataDir: vault.paths.dataDir });
        try {
          await session.vault.unlock(await readPassphrase({ confirm: false }));
          const created = await createSampleTenants(session);
          const text =
            created.length > 0 ? `Created ${created.map((t) => `"${t.name}"`).join(' and ')} with sample documents.` : 'The sample clients exist already.';
          return { json: created, text };
        } finally {
          session.lock();
        }
      }),
    );
}
