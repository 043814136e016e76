// `npm start` on a machine without the Electron binary (as here): the console opens in the browser.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { electronBinary } from '../../src-main/electron/launch.js';
import { tempDir } from '../helpers/vault.js';

const LAUNCH = path.resolve('dist', 'src-main', 'electron', 'launch.js');
let stopChild: (() => void) | null = null;
afterEach(() => {
  stopChild?.();
  stopChild = null;
});

describe('npm start without an Electron binary', () => {
  it.skipIf(electronBinary() !== null)('says so in one line, serves the console, opens the default browser at its URL, and exits 0 on Ctrl-C', async () => {
    const bin = tempDir('bulkhead-start-bin-');
    const opened = path.join(bin, 'opened.txt');
    // A real executable standing in for the desktop's opener: it records the address it was given.
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const child = spawn(process.execPath, [LAUNCH], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, BULKHEAD_DATA_DIR: tempDir('bulkhead-start-data-'), ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stopChild = () => child.kill('SIGKILL');
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await expect.poll(() => /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(out)?.[0], { timeout: 20_000 }).toBeTruthy();
    const url = /http:\/\/127\.0\.0\.1:\d+\/\S+/.exec(out)![0];
    expect(err.trim().split('\n')).toEqual(['bulkhead: the Electron binary cannot be had here, so the console opens in your browser instead.']);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root"');
    await expect.poll(() => (fs.existsSync(opened) ? fs.readFileSync(opened, 'utf8') : ''), { timeout: 10_000 }).toBe(url);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    stopChild = null;
    await expect(fetch(url)).rejects.toThrow();
  });
});
