// Drives the console in Debian's Chromium against a real web host on 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startWebHost, type WebHost } from '../../src-main/web/server.js';
import { TEST_KDF, tempDir } from '../helpers/vault.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-results', 'screens');
export const hasChromium = fs.existsSync(CHROMIUM);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Console {
  host: WebHost;
  context: BrowserContext;
  page: Page;
  dataDir: string;
  profileDir: string;
  close(): Promise<void>;
}

/** A fresh data folder, a fresh web host and a fresh browser profile. */
export async function openConsole(opts: { idleLockSeconds?: number; dataDir?: string } = {}): Promise<Console> {
  const dataDir = opts.dataDir ?? tempDir('bulkhead-e2e-data-');
  const profileDir = tempDir('bulkhead-e2e-profile-');
  const host = await startWebHost({ dataDir, kdf: TEST_KDF, idleLockSeconds: opts.idleLockSeconds ?? 3600 });
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1360, height: 860 } });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
  await page.goto(host.url);
  return {
    host,
    context,
    page,
    dataDir,
    profileDir,
    close: async () => {
      await context.close();
      await host.close();
    },
  };
}

/** Unlocks a console whose vault already exists and opens one of its clients by name. */
export async function unlockAndOpen(page: Page, passphrase: string, client: string): Promise<void> {
  await page.locator('input[name=passphrase]').fill(passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.locator('.tenant-tile').filter({ hasText: client }).click();
  await page.getByTestId('open-tenant-name').waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Every store of the renderer as JSON. */
export function storeSnapshot(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as { __bulkheadStores: () => string }).__bulkheadStores());
}

/** What the page could have left in browser storage: local/session storage, IndexedDB, Cache API. */
export function browserStorage(page: Page): Promise<{ local: number; session: number; idb: number; caches: number; cookies: string }> {
  return page.evaluate(async () => {
    const g = globalThis as unknown as {
      localStorage: { length: number };
      sessionStorage: { length: number };
      indexedDB: { databases(): Promise<unknown[]> };
      caches: { keys(): Promise<unknown[]> };
      document: { cookie: string };
    };
    return {
      local: g.localStorage.length,
      session: g.sessionStorage.length,
      idb: (await g.indexedDB.databases()).length,
      caches: (await g.caches.keys()).length,
      cookies: g.document.cookie,
    };
  });
}

/** Files of a folder whose bytes contain `needle` (UTF-8 or UTF-16LE, as Chromium may store either). */
export function filesContaining(dir: string, needle: string): string[] {
  const forms = [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')];
  const hits: string[] = [];
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dir, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(full);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const bytes = fs.readFileSync(full);
    if (forms.some((f) => bytes.includes(f))) hits.push(rel);
  }
  return hits;
}

export function fileInput(name: string, text: string): { name: string; mimeType: string; buffer: Buffer } {
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(text) };
}
