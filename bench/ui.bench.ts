// npm run bench:ui: the console in Chromium against the web host, with a 10,000-document tenant:
// launch → library rendered, and a tenant switch in the UI, median of 5, beside the bare API
// calls doing the same work in the same run (the baseline).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { invokeCall } from '../src-main/api/dispatch.js';
import { ConsoleSession } from '../src-main/api/session.js';
import { storeDocument } from '../src-main/ingest/documents.js';
import { HashedEmbedder } from '../src-main/embed/hashed.js';
import { vectorIndexFor } from '../src-main/index/vectors.js';
import { startWebHost } from '../src-main/web/server.js';

const DOCS = Number(process.env.BENCH_DOCS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PASSPHRASE = 'bench passphrase for the console';
const WORDS = 'account brief campaign deliverable estimate feedback invoice launch milestone proposal retainer schedule strategy timeline'.split(' ');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function words(seed: number, n: number): string {
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out.push(WORDS[s % WORDS.length]!);
  }
  return out.join(' ');
}

/** A vault with a big tenant (DOCS documents, one passage each) and a small one to switch from. */
async function buildVault(dataDir: string): Promise<{ big: string; small: string }> {
  const s = new ConsoleSession({ dataDir });
  await s.vault.initialize(PASSPHRASE);
  const big = s.vault.createTenant('Large Client (bench)');
  const small = s.vault.createTenant('Small Client (bench)');
  const embedder = new HashedEmbedder();
  const h = s.open(big.id);
  const index = vectorIndexFor(h, embedder.id, embedder.dimension);
  const texts = Array.from({ length: DOCS }, (_, i) => words(i + 1, 40));
  const vectors = await embedder.embed(texts);
  h.db.transaction(() => {
    texts.forEach((text, i) => {
      const sha = crypto.createHash('sha256').update(text).digest('hex');
      storeDocument(
        h,
        { sourcePath: `docs/${String(i).padStart(5, '0')}.md`, title: `${words(i * 7 + 3, 3)} ${i}`, format: 'md', sha256: sha, bytes: text.length, tags: [] },
        [{ ordinal: 0, text, tokenCount: 40, charStart: 0, charEnd: text.length, sha256: sha }],
        [vectors[i]!],
        index,
      );
    });
  })();
  s.lock();
  return { big: big.id, small: small.id };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const expectedRange = `1–${Math.min(100, DOCS)} of ${DOCS.toLocaleString('en-US')}`;

async function libraryRendered(page: Page): Promise<void> {
  await page
    .getByTestId('doc-row')
    .nth(Math.min(99, DOCS - 1))
    .waitFor();
  if (DOCS > 100) await page.getByTestId('pager-range').filter({ hasText: expectedRange }).waitFor();
}

/** Launch the host → unlock → open the big tenant → its first page of documents on screen. */
async function uiLaunchToLibrary(browser: Browser, dataDir: string, big: string): Promise<number> {
  const t0 = performance.now();
  const host = await startWebHost({ dataDir });
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  try {
    const page = await context.newPage();
    await page.goto(host.url);
    await page.locator('input[name=passphrase]').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('.tenant-tile', { hasText: 'Large Client' }).click();
    await libraryRendered(page);
    const ms = performance.now() - t0;
    if (host.session.current?.id !== big) throw new Error('the bench opened the wrong tenant');
    return ms;
  } finally {
    await context.close();
    await host.close();
  }
}

/** The same work over the bare API, no browser: launch → unlock → open → first page. */
async function apiLaunchToList(dataDir: string, big: string): Promise<number> {
  const t0 = performance.now();
  const host = await startWebHost({ dataDir });
  // What a page does first: trade the launch token for a session token of its own.
  const opened = await fetch(`${host.origin}/api/session`, { method: 'POST', headers: { 'x-bulkhead-token': host.token } });
  const session = ((await opened.json()) as { value: { session: string } }).value.session;
  // A page names the tenant it shows on every call once one is open (as the console's client does).
  let viewing: Record<string, string> = {};
  const post = async (name: string, body: unknown): Promise<unknown> => {
    const r = await fetch(`${host.origin}/api/call/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-bulkhead-session': session, ...viewing },
      body: JSON.stringify(body),
    });
    const j = (await r.json()) as { ok: boolean; value?: unknown };
    if (!j.ok) throw new Error(`${name} failed: ${JSON.stringify(j)}`);
    return j.value;
  };
  await post('vault.unlock', { passphrase: PASSPHRASE });
  await post('tenants.open', { tenantId: big });
  viewing = { 'x-bulkhead-tenant': big };
  await post('vault.status', {});
  const page = (await post('documents.list', { offset: 0, limit: 100 })) as { total: number };
  const ms = performance.now() - t0;
  await host.close();
  if (page.total !== DOCS) throw new Error('wrong document count');
  return ms;
}

async function uiSwitches(browser: Browser, dataDir: string): Promise<number[]> {
  const host = await startWebHost({ dataDir });
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  const times: number[] = [];
  try {
    const page = await context.newPage();
    await page.goto(host.url);
    await page.locator('input[name=passphrase]').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('.tenant-tile', { hasText: 'Small Client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Small Client' }).waitFor();
    for (let i = 0; i < RUNS; i++) {
      await page.getByTestId('tenant-switcher').click();
      const option = page.getByRole('option', { name: /Large Client/ });
      await option.waitFor();
      const t0 = performance.now();
      await option.click();
      await libraryRendered(page);
      times.push(performance.now() - t0);
      await page.getByTestId('tenant-switcher').click();
      await page.getByRole('option', { name: /Small Client/ }).click();
      await page.getByTestId('open-tenant-name').filter({ hasText: 'Small Client' }).waitFor();
    }
  } finally {
    await context.close();
    await host.close();
  }
  return times;
}

/** The switch over the bare API: open the big tenant, its status and first page. */
async function apiSwitches(dataDir: string, big: string, small: string): Promise<number[]> {
  const s = new ConsoleSession({ dataDir });
  await invokeCall(s, 'vault.unlock', { passphrase: PASSPHRASE });
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await invokeCall(s, 'tenants.open', { tenantId: small });
    const t0 = performance.now();
    await invokeCall(s, 'tenants.open', { tenantId: big });
    await invokeCall(s, 'vault.status', {});
    await invokeCall(s, 'documents.list', { offset: 0, limit: 100 });
    times.push(performance.now() - t0);
  }
  s.lock();
  return times;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-bench-ui-'));
  try {
    console.log(`building a vault with ${DOCS.toLocaleString('en-US')} documents in one tenant…`);
    const { big, small } = await buildVault(dataDir);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const uiLaunch: number[] = [];
      const apiLaunch: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        uiLaunch.push(await uiLaunchToLibrary(browser, dataDir, big));
        apiLaunch.push(await apiLaunchToList(dataDir, big));
      }
      const uiSwitch = await uiSwitches(browser, dataDir);
      const apiSwitch = await apiSwitches(dataDir, big, small);
      const f = {
        documents: DOCS,
        runs: RUNS,
        library_render_p50_ms: Math.round(median(uiLaunch)),
        api_launch_to_list_p50_ms: Math.round(median(apiLaunch)),
        ui_switch_p50_ms: Math.round(median(uiSwitch)),
        api_switch_p50_ms: Number(median(apiSwitch).toFixed(1)),
        library_render_ratio_vs_api: Number((median(uiLaunch) / median(apiLaunch)).toFixed(2)),
        ui_switch_ratio_vs_api: Number((median(uiSwitch) / median(apiSwitch)).toFixed(2)),
      };
      console.log('');
      console.log(`                                   UI (Chromium)     bare API     ratio`);
      console.log(
        `launch → library of ${DOCS} docs   ${String(f.library_render_p50_ms).padStart(9)} ms ${String(f.api_launch_to_list_p50_ms).padStart(9)} ms ${String(f.library_render_ratio_vs_api).padStart(8)}x`,
      );
      console.log(
        `switch → library of ${DOCS} docs   ${String(f.ui_switch_p50_ms).padStart(9)} ms ${String(f.api_switch_p50_ms).padStart(9)} ms ${String(f.ui_switch_ratio_vs_api).padStart(8)}x`,
      );
      console.log('(launch includes unlocking with the default Argon2id cost; medians of each run)');
      console.log(JSON.stringify(f));
    } finally {
      await browser.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
