// Watched folders in the console: off by default, a folder added picks up its files in the
// background with progress, a removed file is listed and only deleted after confirming.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';
import { openConsole, screenshot, storeSnapshot, type Console } from './harness.js';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

describe('watched folders in the console', () => {
  it('keeps a folder in sync in the background; removal waits for confirmation; another client sees none of it', async () => {
    c = await openConsole();
    const { page } = c;
    await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
    await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
    await page.getByLabel(/Add two sample clients/).uncheck();
    await page.getByRole('button', { name: 'Create vault' }).click();
    await page.getByPlaceholder('New client name').fill('Plover Trust');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Plover Trust' }).waitFor();
    expect(await page.getByTestId('watch-summary').innerText()).toBe('off');

    const dir = fs.realpathSync(tempDir('bulkhead-e2e-watch-'));
    fs.writeFileSync(path.join(dir, 'charter.md'), '# Plover charter\n\nThe trust meets quarterly.');
    await page.getByTestId('watch-panel').getByRole('button', { name: 'Manage' }).click();
    await page.getByLabel('Folder to watch').fill(dir);
    await page.getByRole('button', { name: 'Watch folder' }).click();
    await expect.poll(() => page.getByTestId('watched-folder').innerText()).toContain(dir);
    await expect.poll(() => page.getByTestId('doc-row').count(), { timeout: 20_000 }).toBe(1);
    // (A later sync, e.g. after the file-system events of the first, finds it unchanged.)
    await expect.poll(() => page.getByTestId('watch-last-run').innerText(), { timeout: 10_000 }).toMatch(/Last sync: \d+ added/);

    // A file dropped into the folder arrives by itself.
    fs.writeFileSync(path.join(dir, 'minutes.txt'), 'Minutes: the plover survey was approved.');
    await expect.poll(() => page.getByTestId('doc-row').count(), { timeout: 20_000 }).toBe(2);
    await screenshot(page, '27-watched-folder');

    // A removed file is listed; its document stays until the user confirms.
    fs.rmSync(path.join(dir, 'minutes.txt'));
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => page.getByTestId('watch-removed').innerText(), { timeout: 20_000 }).toContain('minutes');
    expect(await page.getByTestId('doc-row').count()).toBe(2);
    await screenshot(page, '28-watch-removed');
    await page.getByRole('button', { name: 'Remove from library…' }).click();
    await page.getByRole('button', { name: 'Keep them' }).click();
    expect(await page.getByTestId('doc-row').count()).toBe(2);
    await page.getByRole('button', { name: 'Remove from library…' }).click();
    await page.getByRole('button', { name: /^Remove 1 document/ }).click();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(1);
    await expect.poll(() => page.getByTestId('watch-removed').count()).toBe(0);

    // Another client: watching is off, nothing of the first client's folder is shown or stored.
    await page.getByTestId('tenant-switcher').click();
    await page.getByPlaceholder('New client name').fill('Other Client');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Other Client' }).waitFor();
    await expect.poll(() => page.getByTestId('watch-summary').innerText()).toBe('off');
    expect(await page.content()).not.toContain(dir);
    expect(await storeSnapshot(page)).not.toContain(dir);
  });
});
