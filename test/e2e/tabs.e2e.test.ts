// Finding 1 of issue 15: two tabs of one launch URL were one server session. Here each tab is
// its own: tab 2 switching to Beta changes nothing of tab 1, and a call naming a stale tenant is
// refused with TENANT_CHANGED.
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { invokeStream } from '../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../src-main/api/session.js';
import { listDocuments } from '../../src-main/ingest/documents.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';
import { fileInput, openConsole, type Console } from './harness.js';

const ACME = { name: 'Acme Corp', canary: 'ACMECANARY5521' };
const BETA = { name: 'Beta', canary: 'BETACANARY8830' };

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

/** A vault with Acme and Beta, one document each, both about the same ledger. */
async function seed(dataDir: string): Promise<Record<string, string>> {
  const s = new ConsoleSession({ dataDir, kdf: TEST_KDF });
  const ids: Record<string, string> = {};
  try {
    await s.vault.initialize(TEST_PASSPHRASE, { kdf: TEST_KDF });
    for (const t of [ACME, BETA]) {
      const { id } = s.vault.createTenant(t.name);
      ids[t.name] = id;
      s.open(id);
      const up = await s.uploads.add(
        id,
        `${t.name.toLowerCase().replace(/\s/g, '-')}.md`,
        Buffer.from(`# Ledger of ${t.canary}\n\nThe quarterly ledger review. ${t.canary}`),
      );
      const r = await invokeStream(s, 'ingest.run', { uploadIds: [up.uploadId] }, () => undefined, new AbortController().signal);
      expect(r.ok).toBe(true);
    }
  } finally {
    s.dispose();
  }
  return ids;
}

/** Unlock (a tab unlocks for itself) and open a client, from the picker or the switcher. */
async function openIn(page: Page, name: string): Promise<void> {
  const unlock = page.locator('input[name=passphrase]');
  const switcher = page.getByTestId('tenant-switcher');
  await unlock.or(switcher).or(page.locator('.tenant-tile').first()).first().waitFor();
  if (await unlock.isVisible()) {
    await unlock.fill(TEST_PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await page.locator('.tenant-tile').first().or(switcher).first().waitFor();
  if (await switcher.isVisible()) {
    await switcher.click();
    await page.getByRole('option', { name }).click();
  } else {
    await page.locator('.tenant-tile').filter({ hasText: name }).click();
  }
  await page.getByTestId('open-tenant-name').filter({ hasText: name }).waitFor();
}

async function searchHits(page: Page, query: string): Promise<string> {
  await page.getByRole('button', { name: 'Search' }).first().click();
  await page.getByLabel('Search query').fill(query);
  await page.getByRole('button', { name: 'Search', exact: true }).last().click();
  await page.getByTestId('search-hit').first().waitFor();
  return (await page.getByTestId('search-hit').allInnerTexts()).join('\n');
}

describe('two tabs of one launch', () => {
  it('are two sessions: tab 1 keeps reading and writing Acme after tab 2 opens Beta, and a stale view is refused', async () => {
    const dataDir = tempDir('bulkhead-e2e-data-');
    const ids = await seed(dataDir);
    c = await openConsole({ dataDir });
    const tab1 = c.page;
    await openIn(tab1, ACME.name);

    const tab2 = await c.context.newPage();
    await tab2.goto(c.host.url);
    await openIn(tab2, BETA.name);
    expect(await tab2.getByTestId('open-tenant-name').innerText()).toContain(BETA.name);

    // Back in tab 1, still headed Acme: its search shows Acme only.
    await tab1.bringToFront();
    expect(await tab1.getByTestId('open-tenant-name').innerText()).toContain(ACME.name);
    const hits = await searchHits(tab1, 'quarterly ledger');
    expect(hits).toContain(ACME.canary);
    expect(hits).not.toContain(BETA.canary);

    // A file added in tab 1's library lands in Acme, not in Beta.
    await tab1.getByRole('button', { name: 'Library' }).click();
    await tab1.getByTestId('file-picker').setInputFiles([fileInput('tab-one.md', '# Tab one note\n\nAdded from the first tab.')]);
    await tab1.getByTestId('ingest-summary').waitFor();
    await expect.poll(() => tab1.getByTestId('doc-row').count()).toBe(2);
    const byTenant = new Map(c.host.sessions().map((s) => [s.current?.id, s.current]));
    const acme = byTenant.get(ids[ACME.name]);
    const beta = byTenant.get(ids[BETA.name]);
    expect(acme && beta).toBeTruthy();
    expect(
      listDocuments(acme!, { offset: 0, limit: 50 })
        .map((d) => d.sourcePath.replace(/^upload:[0-9a-f]{16}\//, ''))
        .sort(),
    ).toEqual(['acme-corp.md', 'tab-one.md']);
    expect(listDocuments(beta!, { offset: 0, limit: 50 }).map((d) => d.sourcePath.replace(/^upload:[0-9a-f]{16}\//, ''))).toEqual(['beta.md']);

    // A call naming a tenant other than the open one (a stale view) is refused, and the view reloads.
    await tab1.route('**/api/call/knowledge.search', (route) =>
      route.continue({ headers: { ...route.request().headers(), 'x-bulkhead-tenant': ids[BETA.name]! } }),
    );
    const refused = tab1.waitForResponse((r) => r.url().includes('/api/call/knowledge.search'));
    await tab1.getByRole('button', { name: 'Search' }).first().click();
    await tab1.getByLabel('Search query').fill('quarterly ledger');
    await tab1.getByRole('button', { name: 'Search', exact: true }).last().click();
    const answer = (await (await refused).json()) as { ok: boolean; error?: { code: string } };
    expect(answer.error?.code).toBe('TENANT_CHANGED');
    await tab1.unroute('**/api/call/knowledge.search');
    await tab1.getByTestId('doc-row').first().waitFor();
    expect(await tab1.getByTestId('open-tenant-name').innerText()).toContain(ACME.name);
    expect(await tab1.content()).not.toContain(BETA.canary);
  });

  it('a switch asks main once for the tenant and once for its library: no screen of the previous tenant calls in between', async () => {
    const dataDir = tempDir('bulkhead-e2e-data-');
    await seed(dataDir);
    c = await openConsole({ dataDir });
    await openIn(c.page, ACME.name);
    await c.page.getByTestId('doc-row').first().waitFor();
    await c.page.waitForLoadState('networkidle');
    const calls: { name: string; tenant: string | undefined; code?: string }[] = [];
    c.page.on('response', async (r) => {
      const m = /\/api\/call\/([\w.]+)/.exec(r.url());
      if (!m) return;
      const body = (await r.json().catch(() => ({}))) as { error?: { code: string } };
      calls.push({ name: m[1]!, tenant: r.request().headers()['x-bulkhead-tenant'], code: body.error?.code });
    });
    await openIn(c.page, BETA.name);
    await c.page.getByTestId('doc-row').first().waitFor();
    await c.page.waitForLoadState('networkidle');
    // Before, the library of the tenant being left asked for its page while the switch was in
    // flight, was answered TENANT_CHANGED and the whole view loaded a second time.
    expect(calls.filter((x) => x.code)).toEqual([]);
    expect(calls.filter((x) => x.name === 'tenants.open')).toHaveLength(1);
    expect(calls.filter((x) => x.name === 'documents.list')).toHaveLength(1);
    expect(calls.filter((x) => x.name === 'vault.status')).toHaveLength(0);
  });
});
