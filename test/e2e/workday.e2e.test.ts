// The console's working day: tags in the library, a search to scan (highlights, filters, the
// whole document around a passage), and the keyboard (Ctrl/Cmd-K, "/").
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TEST_PASSPHRASE } from '../helpers/vault.js';
import fs from 'node:fs';
import path from 'node:path';
import { MAIL, odtParts, pptxParts, writeParts, xlsxParts } from '../helpers/office.js';
import { tempDir } from '../helpers/vault.js';
import { fileInput, openConsole, screenshot, storeSnapshot, type Console } from './harness.js';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

async function newVaultWithClient(page: Page, name: string): Promise<void> {
  await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
  await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
  await page.getByLabel(/Add two sample clients/).uncheck();
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByPlaceholder('New client name').fill(name);
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByTestId('open-tenant-name').filter({ hasText: name }).waitFor();
}

const LONG = Array.from({ length: 900 }, (_, i) =>
  i === 700 ? 'The heron migration report is due in April.' : `Filler sentence number ${i} about nothing much.`,
).join(' ');

/** The titles of the documents the search hits come from. */
async function hitDocs(page: Page): Promise<string[]> {
  const titles = await page.locator('[data-testid=search-hit] .hit-title').allInnerTexts();
  return [...new Set(titles.map((t) => t.replace(/^(md|txt|csv|pdf)\s*/i, '').trim()))].sort();
}

describe('a working day in the console', () => {
  it('tags documents, filters the library and search by them, highlights matches and opens the whole document at the passage', async () => {
    c = await openConsole();
    const { page } = c;
    await newVaultWithClient(page, 'Heron Logistics');
    await page
      .getByTestId('file-picker')
      .setInputFiles([
        fileInput('migration.md', `# Heron migration\n\nThe heron migration plan covers the warehouse move.`),
        fileInput('notes.txt', 'Notes: the heron migration budget was approved.'),
        fileInput('long.txt', LONG),
      ]);
    await page.getByTestId('ingest-summary').waitFor();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(3);

    // Tags: add two on one document, one on another; remove one.
    const row = (title: string) => page.getByTestId('doc-row').filter({ hasText: title });
    await row('Heron migration').getByRole('button', { name: 'Tag Heron migration' }).click();
    await row('Heron migration').getByLabel('Add a tag to Heron migration').fill('Ops');
    await row('Heron migration').getByLabel('Add a tag to Heron migration').press('Enter');
    await expect.poll(() => row('Heron migration').getByTestId('doc-tags').innerText()).toContain('Ops');
    await row('Heron migration').getByRole('button', { name: 'Tag Heron migration' }).click();
    await row('Heron migration').getByLabel('Add a tag to Heron migration').fill('draft');
    await row('Heron migration').getByLabel('Add a tag to Heron migration').press('Enter');
    await row('notes').getByRole('button', { name: 'Tag notes' }).click();
    await row('notes').getByLabel('Add a tag to notes').fill('ops');
    await row('notes').getByLabel('Add a tag to notes').press('Enter');
    await expect.poll(() => row('notes').getByTestId('doc-tags').innerText()).toContain('ops');
    await row('Heron migration').getByLabel('Remove tag draft from Heron migration').click();
    await expect.poll(() => row('Heron migration').getByTestId('doc-tags').innerText()).not.toContain('draft');
    // Filter the library by a tag (click it), then clear.
    await row('Heron migration').getByRole('button', { name: 'Ops', exact: true }).click();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(2);
    await screenshot(page, '22-library-tags');
    await page.getByRole('button', { name: 'Stop filtering by tag Ops' }).click();
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(3);
    await page.getByLabel('Kind of document').focus();
    await expect.poll(() => page.getByLabel('Kind of document').locator('option').count()).toBe(3);
    await page.getByLabel('Kind of document').selectOption('md');
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(1);
    await page.getByLabel('Kind of document').selectOption('');

    // "/" goes to search and focuses the field.
    await page.locator('body').click({ position: { x: 600, y: 20 } });
    await page.keyboard.press('/');
    await expect
      .poll(() => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id))
      .toBe('search-query');
    await page.keyboard.type('heron migration');
    await page.keyboard.press('Enter');
    await expect.poll(() => hitDocs(page)).toEqual(['Heron migration', 'long', 'notes']);
    const marks = await page.getByTestId('search-hit').first().getByTestId('hl').allInnerTexts();
    expect(marks.map((m) => m.toLowerCase())).toEqual(expect.arrayContaining(['heron', 'migration']));
    // Filters: kind, then tag; each is in the view's URL state.
    await page.getByTestId('search-filters').getByRole('button', { name: /^txt/ }).click();
    await expect.poll(() => hitDocs(page)).toEqual(['long', 'notes']);
    expect(await page.getByTestId('search-view-url').innerText()).toBe('search?q=heron+migration&kind=txt');
    await page.getByTestId('search-filters').getByRole('button', { name: /^txt/ }).click();
    await page.getByLabel('Filter by tag').fill('ops');
    await page.getByLabel('Filter by tag').press('Enter');
    await expect.poll(() => hitDocs(page)).toEqual(['Heron migration', 'notes']);
    expect(await page.getByTestId('search-view-url').innerText()).toBe('search?q=heron+migration&tag=ops');
    await page.getByLabel('Added until').fill('2000-01-01');
    await expect.poll(() => page.getByTestId('search-hit').count()).toBe(0);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => hitDocs(page)).toEqual(['Heron migration', 'long', 'notes']);
    await screenshot(page, '23-search-highlights');
    // Leaving the screen and coming back keeps the view.
    await page.getByRole('button', { name: 'Library' }).click();
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => hitDocs(page)).toEqual(['Heron migration', 'long', 'notes']);
    expect(await page.getByLabel('Search query').inputValue()).toBe('heron migration');

    // Open document: the whole long document, the passage marked in place and scrolled into view.
    const hit = page.locator('.hit-item').filter({ hasText: 'heron migration report' }).first();
    await hit.getByTestId('open-document').click();
    const reader = page.getByTestId('document-reader');
    await reader.waitFor();
    expect(await reader.innerText()).toContain('Filler sentence number 0 about');
    expect(await reader.innerText()).toContain('Filler sentence number 899 about');
    const inPlace = reader.getByTestId('passage-in-place');
    expect(await inPlace.innerText()).toContain('heron migration report');
    await expect
      .poll(() =>
        inPlace.evaluate((el) => {
          const r = (el as unknown as { getBoundingClientRect(): { top: number; bottom: number } }).getBoundingClientRect();
          return r.top >= 0 && r.top < 860;
        }),
      )
      .toBe(true);
    await screenshot(page, '24-document-in-place');
    await page.getByRole('button', { name: 'Close document' }).click();
    await expect.poll(() => reader.count()).toBe(0);
  });

  it('Ctrl-K opens the client switcher; in presentation mode it is refused and no other client appears', async () => {
    c = await openConsole();
    const { page } = c;
    await newVaultWithClient(page, 'Kestrel Partners');
    await page.getByTestId('tenant-switcher').click();
    await page.getByPlaceholder('New client name').fill('Lark Studio');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Lark Studio' }).waitFor();
    await expect.poll(() => page.getByRole('listbox').count()).toBe(0);
    await page.keyboard.press('Control+k');
    await expect.poll(() => page.getByRole('listbox').innerText()).toContain('Kestrel Partners');
    await screenshot(page, '25-ctrl-k-switcher');
    await page.getByRole('option', { name: 'Kestrel Partners' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Kestrel Partners' }).waitFor();

    await page.getByTestId('present').click();
    await page.getByTestId('exit-present').waitFor();
    await page.keyboard.press('Control+k');
    await expect.poll(() => page.getByTestId('shortcut-note').innerText()).toContain('Presentation mode');
    expect(await page.getByRole('listbox').count()).toBe(0);
    expect(await page.content()).not.toContain('Lark Studio');
    expect(await storeSnapshot(page)).not.toContain('Lark Studio');
  });

  it('adds a slide deck, a workbook, an OpenDocument text and an e-mail, and finds their text', async () => {
    c = await openConsole();
    const { page } = c;
    await newVaultWithClient(page, 'Osprey Media');
    const dir = tempDir('bulkhead-e2e-office-');
    const files: { name: string; mimeType: string; buffer: Buffer }[] = [];
    for (const [name, parts] of [
      ['deck.pptx', pptxParts()],
      ['book.xlsx', xlsxParts()],
      ['charter.odt', odtParts()],
    ] as const) {
      await writeParts(path.join(dir, name), parts);
      files.push({ name, mimeType: 'application/octet-stream', buffer: fs.readFileSync(path.join(dir, name)) });
    }
    files.push(fileInput('budget.eml', MAIL));
    await page.getByTestId('file-picker').setInputFiles(files);
    await expect.poll(() => page.getByTestId('ingest-summary').innerText()).toContain('4 added');
    await expect.poll(() => page.getByTestId('doc-row').count()).toBe(4);
    const badges = await page.locator('[data-testid=doc-row] .format-badge').allInnerTexts();
    expect(badges.map((b) => b.toLowerCase()).sort()).toEqual(['eml', 'odt', 'pptx', 'xlsx']);
    await screenshot(page, '26-office-formats');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel('Search query').fill('Heron');
    await page.getByLabel('Search query').press('Enter');
    await expect
      .poll(async () => (await page.locator('[data-testid=search-hit] .hit-where').allInnerTexts()).join('\n'))
      .toContain('Slide 1: Quarterly review › Notes');
    await expect.poll(async () => (await page.locator('[data-testid=search-hit] .hit-title').allInnerTexts()).join('\n')).toContain('Heron budget – final');
  });
});
