// Issue 19, search by example in the console: "Find similar" on a passage (a search hit, the
// passage drawer, the document reader) searches by that passage's text and leaves its own
// document out; a long passage pasted into the search box keeps its lines and is searched whole.
// The ranking is the product's own (hybrid search over a real encrypted tenant), not a mock.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SIMILAR_CORPUS } from '../helpers/similar-corpus.js';
import { TEST_PASSPHRASE } from '../helpers/vault.js';
import { fileInput, hasChromium, openConsole, screenshot, type Console } from './harness.js';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

const SHOTS = path.resolve('.shots');

/** The document titles of the search hits, in rank order (repeats kept). */
async function hitTitles(page: Page): Promise<string[]> {
  const titles = await page.locator('[data-testid=search-hit] .hit-title').allInnerTexts();
  return titles.map((t) => t.replace(/^(md|txt)\s*/i, '').trim());
}

/** A pasted page on beekeeping: several paragraphs, over 5,000 characters, with its line breaks. */
function beekeepingPage(): string {
  const paragraphs = [
    'Spring inspection of the apiary. Every colony was opened on a warm afternoon with the smoker lit. In the strongest hive the brood frames were full from edge to edge, with eggs, larvae and capped brood in a tight pattern, and the queen was seen on the third frame.',
    'Two colonies had started queen cells along the bottom bars. Both were split: the old queen went with two frames of brood and one of nectar into a new hive, and the cells stayed behind to raise a new queen.',
    'The varroa mite count on the sticky boards was high in the weakest colony, and it will be treated before the honey supers go on. A colony that enters the winter cluster with a heavy mite load rarely survives until spring.',
    'A swarm was caught in the orchard, hanging in a cluster on an apple branch. It was shaken into a box, kept in the shade, and hived at dusk on drawn comb.',
  ];
  const lines: string[] = [];
  for (let round = 1; lines.join('\n\n').length < 5_600; round++) lines.push(`Week ${round}.`, ...paragraphs);
  return lines.join('\n\n');
}

describe.skipIf(!hasChromium)('find similar and pasted passages in the console', () => {
  it('finds the passages like one passage in other documents, from a hit, the drawer and the reader; a pasted page keeps its lines', async () => {
    c = await openConsole();
    const { page, context, host } = c;
    await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
    await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
    await page.getByLabel(/Add two sample clients/).uncheck();
    await page.getByRole('button', { name: 'Create vault' }).click();
    await page.getByPlaceholder('New client name').fill('Apiary Co');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Apiary Co' }).waitFor();
    await page.getByTestId('file-picker').setInputFiles(Object.entries(SIMILAR_CORPUS).map(([name, text]) => fileInput(name, text)));
    await page.getByTestId('ingest-summary').waitFor();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(5);

    // A short search first; then "Find similar" on its top hit, the hive-opening passage.
    await page.getByRole('button', { name: 'Search' }).click();
    const box = page.getByLabel('Search query');
    await box.fill('smoker crown board mite drop');
    await box.press('Enter');
    await expect.poll(() => hitTitles(page).then((t) => t[0])).toBe('Hive inspection notes');
    const hive = page.locator('.hit-item').first();
    expect(await hive.innerText()).toContain('Light the smoker');
    await hive.getByTestId('find-similar').click();

    const banner = page.getByTestId('like-banner');
    await expect.poll(() => banner.innerText()).toContain('Hive inspection notes');
    expect(await banner.innerText()).toContain('Light the smoker');
    await expect.poll(() => page.getByTestId('search-summary').innerText()).toContain('other documents than the passage’s own');
    // The list on screen is the new one once the search is back (until then the last one, dimmed).
    await expect.poll(() => page.locator('.hit-list[aria-busy=false]').count()).toBe(1);
    const similar = await hitTitles(page);
    expect(similar[0]).toBe('Swarm control for beekeepers');
    expect(similar).not.toContain('Hive inspection notes');
    // The other bee document's two passages both rank above anything on tacking or tax.
    const lastBee = similar.lastIndexOf('Swarm control for beekeepers');
    expect(similar.filter((t) => t === 'Swarm control for beekeepers')).toHaveLength(2);
    expect(similar.slice(0, lastBee).filter((t) => t === 'Sailing upwind' || t === 'VAT on invoices')).toEqual([]);
    // The view's URL names the passage, not its text; the box is free for a new query.
    expect(await page.getByTestId('search-view-url').innerText()).toMatch(/^search\?like=\d+$/);
    expect(await box.inputValue()).toBe('');
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'find-similar.png') });
    await screenshot(page, '40-find-similar');

    // Leaving the screen and coming back keeps the view.
    await page.getByRole('button', { name: 'Library' }).click();
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => hitTitles(page).then((t) => t[0])).toBe('Swarm control for beekeepers');
    expect(await page.getByTestId('like-banner').innerText()).toContain('Hive inspection notes');

    // From the passage drawer: a passage on tacking finds the harbour, not the bees.
    await box.fill('tack jib sheet helm winch');
    await box.press('Enter');
    await expect.poll(() => hitTitles(page).then((t) => t[0])).toBe('Sailing upwind');
    await expect.poll(() => page.getByTestId('search-view-url').innerText()).toBe('search?q=tack+jib+sheet+helm+winch');
    await page.getByTestId('search-hit').first().click();
    await page.getByTestId('passage-drawer').waitFor();
    await page.getByTestId('drawer-find-similar').click();
    await expect.poll(() => page.getByTestId('passage-drawer').count()).toBe(0);
    await expect.poll(() => page.getByTestId('like-banner').innerText()).toContain('Sailing upwind');
    await expect.poll(() => hitTitles(page).then((t) => t[0])).toBe('Mooring and anchoring');
    expect(await hitTitles(page)).not.toContain('Sailing upwind');

    // From the document reader: the marked passage.
    await page.locator('.hit-item').filter({ hasText: 'Queen cells' }).first().getByTestId('open-document').click();
    await page.getByTestId('passage-in-place').waitFor();
    await page.getByTestId('reader-find-similar').click();
    await expect.poll(() => page.getByTestId('document-reader').count()).toBe(0);
    await expect.poll(() => page.getByTestId('like-banner').innerText()).toContain('Swarm control for beekeepers');
    await expect.poll(() => hitTitles(page).then((t) => t[0])).toBe('Hive inspection notes');
    expect(await hitTitles(page)).not.toContain('Swarm control for beekeepers');

    // A pasted page of 5,000+ characters: its line breaks stay, and it is searched whole.
    const pasted = beekeepingPage();
    expect(pasted.length).toBeGreaterThan(5_000);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.getByTestId('like-banner').count()).toBe(0);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    await page.evaluate(
      (text) => (globalThis as unknown as { navigator: { clipboard: { writeText(t: string): Promise<void> } } }).navigator.clipboard.writeText(text),
      pasted,
    );
    await box.fill('');
    await box.focus();
    await page.keyboard.press('Control+V');
    await expect.poll(() => box.inputValue()).toBe(pasted);
    expect(await page.getByTestId('search-query-length').innerText()).toContain(`${pasted.length.toLocaleString('en')} of 20,000 characters`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('search-summary').count()).toBe(1);
    await expect.poll(() => hitTitles(page).then((t) => [...new Set(t)].slice(0, 2).sort())).toEqual(['Hive inspection notes', 'Swarm control for beekeepers']);
    expect(await page.getByTestId('searched-as').innerText()).toMatch(/^Searched by its most telling words: \w+, \w+/);
    // Enter searched; it did not add a line to the pasted text.
    expect(await box.inputValue()).toBe(pasted);
    const shown = await page.getByTestId('search-view-url').innerText();
    expect(shown.startsWith('search?q=Week+1.%0A%0ASpring+inspection')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
    await screenshot(page, '41-pasted-passage');

    // Over 20,000 characters: said so as it is typed, and not sent.
    await box.fill('bees '.repeat(4_001));
    await expect.poll(() => page.getByTestId('search-query-length').innerText()).toContain('too long for a search');
    expect(await page.getByRole('button', { name: 'Search', exact: true }).and(page.locator('.search-bar button')).isDisabled()).toBe(true);
  });
});
