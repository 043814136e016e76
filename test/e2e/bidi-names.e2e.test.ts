// Issue 16: a file ingested from a folder keeps its name as stored, bidi override and all. The
// console must not let it read as another name: "invoice\u202Efdp.txt" would display as
// "invoicetxt.pdf". Every name goes through one component that shows the control as an escape.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleSession } from '../../src-main/api/session.js';
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';
import { hasChromium, openConsole, screenshot, unlockAndOpen, type Console } from './harness.js';

const HOSTILE = 'invoice\u202Efdp.txt';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

describe.skipIf(!hasChromium)('names with bidi controls in the console', () => {
  it('shows the override as a visible escape in the library and in search results, never the reordered name', async () => {
    const dataDir = tempDir('bulkhead-e2e-data-');
    const folder = tempDir('bulkhead-e2e-bidi-');
    fs.writeFileSync(path.join(folder, HOSTILE), 'The overdue invoice for the spring campaign, BIDICANARY4410.');
    const s = new ConsoleSession({ dataDir, kdf: TEST_KDF });
    try {
      await s.vault.initialize(TEST_PASSPHRASE, { kdf: TEST_KDF });
      const { id } = s.vault.createTenant('Acme Corp');
      const summary = await ingestPaths(s.open(id), [folder], { embedder: new HashedEmbedder() });
      expect(summary.files.map((f) => f.status)).toEqual(['added']);
    } finally {
      s.dispose();
    }

    c = await openConsole({ dataDir });
    const page = c.page;
    await unlockAndOpen(page, TEST_PASSPHRASE, 'Acme Corp');

    await page.getByRole('button', { name: 'Library' }).click();
    const row = page.getByTestId('doc-row').first();
    await row.waitFor();
    const rowText = await row.innerText();
    expect(rowText).toContain('invoice\\u202Efdp.txt');
    expect(rowText).not.toContain('\u202E');
    await screenshot(page, 'bidi-library');

    await page.getByRole('button', { name: 'Search' }).first().click();
    await page.getByLabel('Search query').fill('overdue invoice');
    await page.getByRole('button', { name: 'Search', exact: true }).last().click();
    const hit = page.getByTestId('search-hit').first();
    await hit.waitFor();
    const hitText = await hit.innerText();
    expect(hitText).toContain('BIDICANARY4410');
    expect(hitText).toContain('\\u202E');
    expect(hitText).not.toContain('\u202E');
  });
});
