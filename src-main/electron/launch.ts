// `npm start`: runs the desktop app, or says exactly what is missing.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBrowserConsole } from './browser-fallback.js';

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
  let bin = electronBinary();
  if (!bin && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    // npm install skips Electron's download script (allowScripts); fetch the binary on first start.
    process.stderr.write('bulkhead: first start: downloading the Electron binary (once)\n');
    // Quiet: where it cannot be had, the one line below says so (no download stack trace).
    spawnSync(process.execPath, [require.resolve('electron/install.js')], { stdio: 'ignore', timeout: 120_000 });
    bin = electronBinary();
  }
  if (!bin) {
    process.stderr.write('bulkhead: the Electron binary cannot be had here, so the console opens in your browser instead.\n');
    startBrowserConsole(path.join(root, 'dist'), process.argv.slice(2));
  } else {
    startDesktop(bin);
  }
}

function startDesktop(bin: string): void {
  if (!fs.existsSync(path.join(root, 'build', 'electron', 'better_sqlite3.node'))) {
    // First start: build the Electron copy of the SQLite driver beside Node's (which stays as it is).
    process.stderr.write("bulkhead: first start: building the SQLite driver for Electron (once; Node's build stays as it is)\n");
    const rebuild = spawnSync(process.execPath, [path.join(here, 'rebuild.js')], { stdio: 'inherit' });
    if (rebuild.status !== 0)
      fail(
        "building the Electron copy of the SQLite driver failed (it needs network access once, for Electron's headers); retry with `npm run electron:rebuild`.",
      );
  }
  const child = spawn(bin, [path.join(root, 'dist', 'src-main', 'electron', 'main.js')], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
}
