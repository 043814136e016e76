import password from '@inquirer/password';
import { BulkheadError } from '../../src-shared/errors.js';

/**
 * BULKHEAD_PASSPHRASE for scripts, else a hidden prompt on the terminal. The prompt writes to
 * stderr so `--json` output on stdout stays parseable.
 */
export async function readPassphrase(opts: { confirm: boolean }): Promise<string> {
  const fromEnv = process.env.BULKHEAD_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    throw new BulkheadError('LOCKED', 'no passphrase: set BULKHEAD_PASSPHRASE or run in a terminal');
  }
  const context = { input: process.stdin, output: process.stderr };
  const first = await password({ message: 'Vault passphrase', mask: '*' }, context);
  if (opts.confirm) {
    const second = await password({ message: 'Repeat the passphrase', mask: '*' }, context);
    if (first !== second) throw new BulkheadError('INPUT_INVALID', 'the two passphrases differ');
  }
  return first;
}

/**
 * A second secret (an export passphrase, a new vault passphrase): from its environment variable
 * for scripts, else a hidden prompt, asked twice when it is being chosen.
 */
export async function readSecret(opts: { env: string; message: string; confirm: boolean }): Promise<string> {
  const fromEnv = process.env[opts.env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) throw new BulkheadError('INPUT_INVALID', `no ${opts.message.toLowerCase()}: set ${opts.env} or run in a terminal`);
  const context = { input: process.stdin, output: process.stderr };
  const first = await password({ message: opts.message, mask: '*' }, context);
  if (opts.confirm) {
    const second = await password({ message: `Repeat the ${opts.message.toLowerCase()}`, mask: '*' }, context);
    if (first !== second) throw new BulkheadError('INPUT_INVALID', 'the two passphrases differ');
  }
  return first;
}
