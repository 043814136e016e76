// Issue 19: the offline embedder learns each client's vocabulary from its own passages. The
// Settings screen says so for the client that has it, and only for that one.
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleSession } from '../../src-main/api/session.js';
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import { tuneOfflineEmbedder } from '../../src-main/retrieval/term-space-job.js';
import { mulberry32 } from '../../src-shared/seeded-random.js';
import { storeChunks } from '../helpers/retrieval.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';
import { hasChromium, openConsole, screenshot, unlockAndOpen, type Console } from './harness.js';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

function passages(count: number): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'pe', 'dri', 'zan', 'gul', 'fen'];
  const random = mulberry32(3);
  return Array.from({ length: count }, (_, i) => {
    const s = i % 20;
    return `${Array.from({ length: 14 }, () => `${syllables[s % 12]}${syllables[Math.floor(s / 12)]}${syllables[Math.floor(random() * 12)]}`).join(' ')}.`;
  });
}

describe.skipIf(!hasChromium)('the tuned offline embedder in the console', () => {
  it("Settings says the client's vectors are tuned to its own passages, and another client's are not", async () => {
    const dataDir = tempDir('bulkhead-e2e-data-');
    const s = new ConsoleSession({ dataDir, kdf: TEST_KDF });
    try {
      await s.vault.initialize(TEST_PASSPHRASE, { kdf: TEST_KDF });
      const acme = s.vault.createTenant('Acme Corp');
      const globex = s.vault.createTenant('Globex');
      const a = s.open(acme.id);
      await storeChunks(a, new HashedEmbedder(), passages(600));
      expect((await tuneOfflineEmbedder(a)).kind).toBe('tuned');
      await storeChunks(s.open(globex.id), new HashedEmbedder(), passages(3));
    } finally {
      s.dispose();
    }

    c = await openConsole({ dataDir });
    const page = c.page;
    await unlockAndOpen(page, TEST_PASSPHRASE, 'Acme Corp');
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => page.getByTestId('embedder-tuning').innerText()).toContain("Tuned to this client's vocabulary, learnt from its 600 passages");
    await screenshot(page, 'settings-tuned-embedder');

    await page.getByTestId('tenant-switcher').click();
    await page.getByRole('option', { name: 'Globex' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Globex' }).waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => page.getByTestId('embedder-tuning').innerText()).toContain('once it holds 500 passages');
    expect(await page.getByTestId('embedder-tuning').innerText()).not.toContain('600');
  });
});
