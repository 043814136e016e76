// `npm start`: runs the desktop app, or says exactly what is missing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');

/** The Electron binary's path, or null when it was never downloaded (as on CI machines here). */
export function electronBinary(): string | null {
  try {
    const bin = require('electron') as unknown;
    return typeof bin === 'string' && fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

function fail(message: string): never {
  process.stderr.write(`bulkhead: ${message}\n`);
  process.exit(7);
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const bin = electronBinary();
  if (!bin) {
    fail(
      'the Electron binary is not installed, so the desktop app cannot start.\n' +
        '  Install it with `node node_modules/electron/install.js` (needs network access),\n' +
        '  or use the same console in a browser: `npm run web`.',
    );
  }
  if (!fs.existsSync(path.join(root, 'build', 'electron', 'better_sqlite3.node'))) {
    fail('the Electron build of the SQLite driver is missing: run `npm run electron:rebuild` once (Node\'s build stays as it is).');
  }
  const child = spawn(bin, [path.join(root, 'dist', 'src-main', 'electron', 'main.js')], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
}
