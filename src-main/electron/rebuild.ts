// `npm run electron:rebuild`: builds the SQLite driver for Electron's ABI into build/electron/,
// from a private copy of the module, so node_modules keeps the Node build that `npm test` uses.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { rebuild } from '@electron/rebuild';

const require = createRequire(import.meta.url);
const MODULE = 'better-sqlite3-multiple-ciphers';
const root = process.cwd();
const work = path.join(root, 'build', 'electron-work');
const out = path.join(root, 'build', 'electron');

const electronVersion = (require('electron/package.json') as { version: string }).version;
const source = path.dirname(require.resolve(`${MODULE}/package.json`));

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(path.join(work, 'node_modules'), { recursive: true });
fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'bulkhead-electron-native', private: true, dependencies: { [MODULE]: '*' } }));
fs.cpSync(source, path.join(work, 'node_modules', MODULE), { recursive: true, filter: (f) => !f.includes(`${path.sep}build${path.sep}`) });

process.stdout.write(`Building ${MODULE} for Electron ${electronVersion} (downloads Electron's headers once)…\n`);
await rebuild({ buildPath: work, electronVersion, onlyModules: [MODULE], force: true, buildFromSource: true });
fs.mkdirSync(out, { recursive: true });
fs.copyFileSync(path.join(work, 'node_modules', MODULE, 'build', 'Release', 'better_sqlite3.node'), path.join(out, 'better_sqlite3.node'));
fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(`Done: ${path.relative(root, out)}/better_sqlite3.node (Node's own build is untouched).\n`);
