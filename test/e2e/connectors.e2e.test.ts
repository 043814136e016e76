import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { countToolEvent, setGuardLimits } from '../../src-main/connectors/guard.js';
import { FIXTURES, NODE_MODULES } from '../helpers/connectors.js';
import { TEST_PASSPHRASE } from '../helpers/vault.js';
import { openConsole, screenshot, type Console } from './harness.js';

const SECRET = 'E2ECONNECTORSECRET5521';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

describe('Settings › Tool connectors', () => {
  it("adds a client's connector, tests it in its sandbox, allows a tool, never shows the credential; the lock banner unlocks", async () => {
    c = await openConsole();
    const { page } = c;
    await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
    await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
    await page.getByLabel(/Add two sample clients/).uncheck();
    await page.getByRole('button', { name: 'Create vault' }).click();
    await page.getByPlaceholder('New client name').fill('Acme Connectors');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Acme Connectors' }).waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();

    const section = page.getByRole('region', { name: 'Tool connectors' });
    await section.waitFor();
    await section.getByLabel('Connector name').fill('crm');
    await section.getByLabel('Command or URL').fill(process.execPath);
    await section.getByLabel('Arguments').fill(path.join(FIXTURES, 'benign.mjs'));
    await section.getByLabel('Credentials').fill(`CONNECTOR_TOKEN=${SECRET}`);
    await section.getByLabel('Readable paths').fill(`${FIXTURES}\n${NODE_MODULES}`);
    await section.getByRole('button', { name: 'Add connector' }).click();
    const card = section.getByRole('listitem', { name: 'Connector crm' });
    await card.waitFor();
    await expect.poll(() => card.textContent()).toContain('Credentials: CONNECTOR_TOKEN');
    await card.getByRole('button', { name: 'Test' }).click();
    // Starting a sandboxed server on a loaded machine can take longer than a click.
    await section.getByText(/answered in \d+ ms \(sandbox: bwrap\); 3 tools, 3 off/).waitFor({ timeout: 45_000 });
    const whoami = card.getByRole('checkbox', { name: /whoami/ });
    await whoami.waitFor();
    expect(await whoami.isChecked()).toBe(false);
    // The box follows the tenant's stored policy: it turns on once the call that allows the tool returns.
    await whoami.click();
    await expect.poll(() => whoami.isChecked(), { timeout: 30_000 }).toBe(true);
    await screenshot(page, 'connectors-settings');
    expect(await page.content()).not.toContain(SECRET);

    // The burst guard locks the tool path (as calls would); the banner shows and Unlock clears it.
    const handle = c.host.session.current!;
    setGuardLimits(handle, { maxCalls: 1, maxRefusals: 5 });
    countToolEvent(handle, 'call');
    countToolEvent(handle, 'call');
    await page.getByRole('button', { name: 'Library' }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'Tools locked' });
    await banner.waitFor();
    await banner.getByRole('button', { name: 'Unlock tools' }).click();
    await expect.poll(() => banner.count()).toBe(0);
  }, 90_000);
});
