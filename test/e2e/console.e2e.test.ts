import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { invokeCall } from '../../src-main/api/dispatch.js';
import { TEST_PASSPHRASE } from '../helpers/vault.js';
import { browserStorage, fileInput, filesContaining, openConsole, screenshot, storeSnapshot, type Console } from './harness.js';

const A = { name: 'Acme Zephyr Holdings', canary: 'ZEPHYRCANARY7731', title: 'Zephyr renewal terms' };
const B = { name: 'Beta Quartz Studio', canary: 'QUARTZCANARY4410', title: 'Quartz onboarding plan' };

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

async function createVault(page: Page, samples: boolean): Promise<void> {
  await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
  await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
  if (!samples) await page.getByLabel(/Add two sample clients/).uncheck();
  await page.getByRole('button', { name: 'Create vault' }).click();
}

async function createTenantFromPicker(page: Page, name: string): Promise<void> {
  await page.getByPlaceholder('New client name').fill(name);
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByTestId('open-tenant-name').filter({ hasText: name }).waitFor();
}

async function ingest(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
  await page.getByTestId('file-picker').setInputFiles(files);
  await page.getByTestId('ingest-summary').waitFor();
}

/** A new vault with the two sample clients (first run), the first one open with its 3 documents. */
async function openFirstSample(page: Page): Promise<void> {
  await createVault(page, true);
  await page.getByRole('heading', { name: 'Open a client' }).waitFor();
  const tiles = page.locator('.tenant-tile');
  await expect.poll(() => tiles.count()).toBe(2);
  await tiles.first().click();
  await expect.poll(() => page.getByTestId('doc-row').count()).toBe(3);
}

describe('the console in a browser', () => {
  it('unlocks, ingests with progress, searches, opens a passage, switches tenant and leaves nothing of the first behind', async () => {
    c = await openConsole();
    const { page } = c;
    await page.getByRole('heading', { name: 'Welcome to Bulkhead' }).waitFor();
    await screenshot(page, '01-first-run');
    await createVault(page, false);

    await page.getByRole('heading', { name: 'Open a client' }).waitFor();
    await screenshot(page, '02-picker-empty');
    await createTenantFromPicker(page, A.name);
    await screenshot(page, '03-library-empty');

    await ingest(page, [
      fileInput(
        'renewal.md',
        `# ${A.title}\n\nThe contract renews each March. Internal code ${A.canary} marks this client.\n\n## Fees\nThe retainer is 4,000 per month.`,
      ),
      fileInput('minutes.txt', `Board minutes. The renewal was approved. ${A.canary}`),
      fileInput('broken.pdf', 'this is not a PDF at all'),
    ]);
    const jobs = page.getByTestId('ingest-job');
    await expect.poll(() => jobs.count()).toBe(3);
    await expect.poll(() => page.getByTestId('ingest-summary').innerText()).toContain('2 added');
    await expect.poll(() => page.getByTestId('ingest-failures').innerText()).toContain('broken.pdf');
    expect(await page.locator('progress').evaluateAll((els) => els.map((e) => (e as unknown as { value: number }).value))).toEqual([1, 1, 1]);
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(2);
    await screenshot(page, '04-library-ingested');

    // Drag and drop: a file dropped on the library is added like a picked one.
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await page.evaluate(() => {
      const g = globalThis as unknown as {
        DataTransfer: new () => { items: { add(f: unknown): void } };
        File: new (parts: string[], name: string) => unknown;
        document: { querySelector(s: string): { dispatchEvent(e: unknown): void } };
        DragEvent: new (t: string, o: object) => unknown;
      };
      const dt = new g.DataTransfer();
      dt.items.add(new g.File(['Dropped notes about the Zephyr launch.'], 'dropped.md'));
      const target = g.document.querySelector('[data-testid=library]');
      target.dispatchEvent(new g.DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new g.DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.getByTestId('ingest-summary').waitFor();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(3);

    // Delete asks first; cancelling keeps the document, confirming removes it.
    const dropped = page.getByTestId('doc-row').filter({ hasText: 'dropped.md' });
    await dropped.getByRole('button', { name: /Delete/ }).click();
    await page.getByRole('dialog').waitFor();
    await screenshot(page, '04b-delete-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(3);
    await dropped.getByRole('button', { name: /Delete/ }).click();
    await page.getByRole('button', { name: 'Delete document' }).click();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(2);
    // The uploaded copies are gone from the private temporary folder.
    expect(c.host.session.uploads.pending).toBe(0);

    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel('Search query').fill(A.canary);
    await page.getByRole('button', { name: 'Search', exact: true }).last().click();
    await page.getByTestId('search-hit').first().waitFor();
    await screenshot(page, '05-search');
    await page.getByTestId('search-hit').first().click();
    await expect.poll(() => page.getByTestId('passage-drawer').innerText()).toContain(A.canary);
    await screenshot(page, '06-passage');
    await page.getByRole('button', { name: 'Close passage' }).click();

    await page.getByRole('button', { name: 'Audit trail' }).click();
    await expect.poll(() => page.getByTestId('chain-status').innerText()).toContain('Chain verified');
    const auditText = await page.locator('.audit-table').innerText();
    for (const kind of ['tenant.open', 'ingest', 'document.delete', 'search']) expect(auditText).toContain(kind);
    expect(auditText).not.toContain(A.canary);
    await screenshot(page, '06b-audit');

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Embedder' }).waitFor();
    await screenshot(page, '07-settings');

    // Switch: a new client B from the switcher.
    await page.getByTestId('tenant-switcher').click();
    await screenshot(page, '08-switcher-open');
    await page.getByPlaceholder('New client name').fill(B.name);
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: B.name }).waitFor();
    await ingest(page, [fileInput('onboarding.md', `# ${B.title}\n\nWelcome pack. ${B.canary}`)]);
    await screenshot(page, '09-tenant-b');

    const html = await page.content();
    const stores = await storeSnapshot(page);
    for (const secret of [A.canary, A.title, A.name, 'renewal.md', 'minutes.txt']) {
      expect(html, `DOM holds "${secret}"`).not.toContain(secret);
      expect(stores, `stores hold "${secret}"`).not.toContain(secret);
    }
    expect(stores).toContain(B.canary.length > 0 ? B.title : '');
    expect(await browserStorage(page)).toEqual({ local: 0, session: 0, idb: 0, caches: 0, cookies: '' });

    // Nothing of either tenant's content reached the browser profile on disk (HTTP cache included).
    await c.context.close();
    expect(filesContaining(c.profileDir, A.canary)).toEqual([]);
    expect(filesContaining(c.profileDir, B.canary)).toEqual([]);
  });

  it('presentation mode removes every other client from the DOM and the stores until the passphrase is entered', async () => {
    c = await openConsole();
    const { page } = c;
    await createVault(page, false);
    await createTenantFromPicker(page, A.name);
    await page.getByTestId('tenant-switcher').click();
    await page.getByPlaceholder('New client name').fill(B.name);
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: B.name }).waitFor();

    await page.getByTestId('present').click();
    await page.getByTestId('exit-present').waitFor();
    await screenshot(page, '10-presentation');
    expect(await page.content()).not.toContain(A.name);
    expect(await storeSnapshot(page)).not.toContain(A.name);
    await expect.poll(() => page.getByTestId('tenant-switcher').count()).toBe(0);
    // Main answers the same: the page's session lists only the one presented...
    const listed = JSON.stringify(await invokeCall(c.host.session, 'tenants.list', {}));
    expect(listed).not.toContain(A.name);
    expect(listed).toContain(B.name);
    // ...and another page of the launch URL is a session of its own, locked: a new tab does not leave presentation mode.
    const fresh = await page.evaluate(async (token) => {
      const s = (await (await fetch('/api/session', { method: 'POST', headers: { 'x-bulkhead-token': token } })).json()) as { value: { session: string } };
      const r = await fetch('/api/call/tenants.list', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-bulkhead-session': s.value.session },
        body: '{}',
      });
      return JSON.stringify(await r.json());
    }, c.host.token);
    expect(fresh).toContain('LOCKED');
    expect(fresh).not.toContain(A.name);

    await page.getByTestId('exit-present').click();
    await page.getByLabel('Passphrase').fill('not the passphrase');
    await page.getByRole('button', { name: 'Leave' }).click();
    await expect.poll(() => page.getByRole('dialog').innerText()).toContain('wrong passphrase');
    await page.getByLabel('Passphrase').fill(TEST_PASSPHRASE);
    await page.getByRole('button', { name: 'Leave' }).click();
    await page.getByTestId('tenant-switcher').click();
    await expect.poll(() => page.getByRole('listbox').innerText()).toContain(A.name);
  });

  it('first run with samples gives two clients with documents; locking wipes the stores; idle locks by itself', async () => {
    c = await openConsole({ idleLockSeconds: 3 });
    const { page } = c;
    await openFirstSample(page);
    await screenshot(page, '11-sample-library');
    // No input for longer than the idle limit: back to the unlock screen, stores empty.
    await page.getByRole('heading', { name: 'Unlock your vault' }).waitFor({ timeout: 15_000 });
    await screenshot(page, '12-unlock');
    const stores = JSON.parse(await storeSnapshot(page)) as { useLibrary: { items: unknown[] }; useSession: { tenants: unknown[] } };
    expect(stores.useLibrary.items).toEqual([]);
    expect(stores.useSession.tenants).toEqual([]);
    expect(c.host.session.vault.state).toBe('locked');
  });

  it('runs the isolation self-test over two clients and shows every control passing; a switch forgets the report', async () => {
    c = await openConsole();
    const { page } = c;
    await openFirstSample(page);
    const open = c.host.session.current?.id;
    await page.getByRole('button', { name: 'Isolation check' }).click();
    await page.getByTestId('run-isolation').click();
    await page.getByTestId('isolation-verdict').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('isolation-verdict').innerText()).toContain('All controls passed');
    expect(await page.getByRole('table', { name: 'Isolation controls' }).innerText()).not.toContain('FAIL');
    expect(await page.getByTestId('isolation-sha').innerText()).toMatch(/[0-9a-f]{64}/);
    await screenshot(page, '15-isolation-check');
    // The console's own client stayed open through the run.
    expect(c.host.session.current?.id).toBe(open);
    await page.getByRole('button', { name: 'Library' }).click();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(3);
    expect(await browserStorage(page)).toMatchObject({ local: 0, session: 0, idb: 0, caches: 0 });
    await page.getByTestId('tenant-switcher').click();
    await page.getByRole('option').nth(1).click();
    await expect.poll(async () => (JSON.parse(await storeSnapshot(page)) as { useIsolation: { report: unknown } }).useIsolation.report).toBeNull();
  });
});
