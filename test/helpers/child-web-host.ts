// A real web host in its own process, for the kill tests: `tsx child-web-host.ts DATA_DIR`.
// Prints `ready <origin> <token>` once it listens; serves a stub page (no renderer build needed).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startWebHost } from '../../src-main/web/server.js';

const dataDir = process.argv[2]!;
const staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-static-'));
fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
const host = await startWebHost({ dataDir, staticDir });
process.stdout.write(`ready ${host.origin} ${host.token}\n`);
