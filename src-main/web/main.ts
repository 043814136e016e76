// `npm run web`: the console in a browser, served on 127.0.0.1 with a per-launch token.
import fs from 'node:fs';
import { Command } from 'commander';
import { isBulkheadError } from '../../src-shared/errors.js';
import { openAppLog } from '../log/logger.js';
import { resolveDataDir } from '../vault/paths.js';
import { startWebHost } from './server.js';

const program = new Command('bulkhead-web')
  .description('serve the Bulkhead console on 127.0.0.1 for a browser')
  .option('--data-dir <dir>', 'vault folder (or BULKHEAD_DATA_DIR)')
  .option('--port <port>', 'port on 127.0.0.1 (default: a free one)', '0')
  .option('--idle-lock <minutes>', 'lock after this many idle minutes', '10')
  .parse();

const opts = program.opts<{ dataDir?: string; port: string; idleLock: string }>();
const port = Number(opts.port);
const idle = Number(opts.idleLock);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(idle) || idle < 1) {
  process.stderr.write('bulkhead-web: --port must be 0-65535 and --idle-lock a whole number of minutes\n');
  process.exit(2);
}

try {
  const dataDir = resolveDataDir(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = await openAppLog(dataDir);
  const host = await startWebHost({ dataDir, port, idleLockSeconds: idle * 60, log });
  process.stdout.write(
    `Bulkhead console: open this address in your browser (it contains this launch's access token):\n\n    ${host.url}\n\nCtrl-C stops the console and locks the vault.\n`,
  );
  const stop = (): void => {
    void host
      .close()
      .then(() => log.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  process.stderr.write(`bulkhead-web: ${isBulkheadError(err) ? err.message : String(err)}\n`);
  process.exit(isBulkheadError(err, 'UNAVAILABLE') ? 7 : 1);
}
