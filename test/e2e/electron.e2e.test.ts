import fs from 'node:fs';
import path from 'node:path';
import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { electronBinary } from '../../src-main/electron/launch.js';
import { tempDir } from '../helpers/vault.js';

const binary = electronBinary();
const nativeBuild = fs.existsSync(path.resolve('build', 'electron', 'better_sqlite3.node'));
const reason = !binary ? 'no Electron binary on this machine' : !nativeBuild ? 'no Electron-ABI SQLite build (npm run electron:rebuild)' : '';

describe('the desktop app (Electron)', () => {
  if (reason) {
    process.stderr.write(`SKIPPED the desktop app (Electron) smoke test: ${reason}\n`);
    it.skip(`SKIPPED: launches with a sandboxed, isolated window (${reason})`, () => undefined);
    return;
  }
  it('launches with a sandboxed, isolated window that loads the console from app://', async () => {
    const app = await _electron.launch({
      executablePath: binary!,
      args: [path.resolve('dist/src-main/electron/main.js')],
      env: { ...process.env, BULKHEAD_DATA_DIR: tempDir() },
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Welcome to Bulkhead' }).waitFor();
      const prefs = await app.evaluate(({ BrowserWindow }) => {
        const wc = BrowserWindow.getAllWindows()[0]!.webContents as unknown as { getURL(): string; getLastWebPreferences?: () => Record<string, unknown> };
        return { url: wc.getURL(), prefs: wc.getLastWebPreferences?.() ?? null };
      });
      expect(prefs.url).toMatch(/^app:\/\/bulkhead\//);
      // Electron versions that still expose the applied preferences are checked directly.
      if (prefs.prefs)
        expect(prefs.prefs).toMatchObject({
          contextIsolation: true,
          sandbox: true,
          nodeIntegration: false,
          webSecurity: true,
          nodeIntegrationInWorker: false,
          webviewTag: false,
        });
      // And by behaviour: an isolated, sandboxed renderer has neither require nor process.
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
      expect(await page.evaluate(() => Object.keys((globalThis as unknown as { bulkhead: object }).bulkhead).sort())).toEqual([
        'call',
        'cancel',
        'stream',
        'upload',
      ]);
    } finally {
      await app.close();
    }
  });
});
