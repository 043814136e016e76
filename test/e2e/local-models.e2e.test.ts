import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { disposeModelRuntime } from '../../src-main/models/shared.js';
import { writeTinyModel } from '../helpers/gguf-writer.js';
import { tempDir, TEST_PASSPHRASE } from '../helpers/vault.js';
import { ask } from './chat-setup.js';
import { fileInput, openConsole, screenshot, type Console } from './harness.js';

let c: Console | null = null;
afterEach(async () => {
  await c?.close();
  await disposeModelRuntime();
  c = null;
});

describe('local models in Settings', () => {
  it('lists the library, picks a library chat model, answers with it, and shows its tokens per second; another client sees none of it', async () => {
    const dataDir = tempDir('bulkhead-e2e-models-');
    const lib = path.join(dataDir, 'models');
    fs.mkdirSync(lib, { recursive: true });
    writeTinyModel(path.join(lib, 'tiny-chat.gguf'), { kind: 'chat' });
    writeTinyModel(path.join(lib, 'tiny-embed.gguf'), { kind: 'embedding', seed: 2 });
    writeTinyModel(path.join(lib, 'tiny-rank.gguf'), { kind: 'reranking' });
    c = await openConsole({ dataDir });
    const { page } = c;
    await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
    await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
    await page.getByLabel(/Add two sample clients/).uncheck();
    await page.getByRole('button', { name: 'Create vault' }).click();
    await page.getByPlaceholder('New client name').fill('Harbour Works');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Harbour Works' }).waitFor();
    await page.getByTestId('file-picker').setInputFiles([fileInput('budget.md', '# Budget\n\nThe harbour budget is forty thousand.')]);
    await page.getByTestId('ingest-summary').waitFor();

    await page.getByRole('button', { name: 'Settings' }).click();
    const section = page.getByRole('region', { name: 'Local models' });
    const table = section.getByRole('table', { name: 'Model library' });
    await expect.poll(() => table.innerText()).toContain('tiny-chat.gguf');
    const text = await table.innerText();
    expect(text).toMatch(/tiny-embed\.gguf\s+embedding/);
    expect(text).toMatch(/tiny-rank\.gguf\s+reranking/);
    // Each slot offers only the models of its kind.
    const chatOptions = await section.getByLabel('Chat model for this client').locator('option').allInnerTexts();
    expect(chatOptions).toEqual(['Choose a model', 'tiny-chat.gguf']);

    await section.getByLabel('Chat model for this client').selectOption('tiny-chat.gguf');
    await section.getByRole('button', { name: 'Use for chat' }).click();
    await expect.poll(() => section.innerText(), { timeout: 20_000 }).toContain('In use: tiny-chat.gguf');
    await section.getByLabel('Embedding model for this client').selectOption('tiny-embed.gguf');
    await section.getByRole('button', { name: 'Use and re-index' }).click();
    await expect.poll(() => section.innerText(), { timeout: 60_000 }).toContain('In use: tiny-embed.gguf');
    await section.getByLabel('Reranker for this client').selectOption('tiny-rank.gguf');
    await section.getByRole('button', { name: 'Save reranker' }).click();
    await expect.poll(() => section.innerText(), { timeout: 20_000 }).toContain('In use: tiny-rank.gguf');

    await page.getByRole('button', { name: 'Ask' }).first().click();
    await ask(page, 'What is the harbour budget?');
    await expect.poll(() => page.getByTestId('answer').last().innerText(), { timeout: 60_000 }).toMatch(/\S/);
    await expect.poll(() => page.locator('body').innerText(), { timeout: 60_000 }).toContain('tiny-chat.gguf');

    await page.getByRole('button', { name: 'Settings' }).click();
    const tps = page.getByTestId('tokens-per-second');
    await expect.poll(() => tps.innerText(), { timeout: 20_000 }).toMatch(/tokens at \d+\.\d tokens\/s with tiny-chat\.gguf/);
    await expect.poll(() => page.getByTestId('runtime-status').innerText()).toMatch(/loaded .*tiny-chat\.gguf \(\d+ ms\)/);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, '40-settings-local-models');

    // Another client: its own (empty) choices, and nothing of the first one's last answer.
    await page.getByTestId('tenant-switcher').click();
    await page.getByPlaceholder('New client name').fill('Other Client');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.getByTestId('open-tenant-name').filter({ hasText: 'Other Client' }).waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    const other = page.getByRole('region', { name: 'Local models' });
    await expect.poll(() => other.innerText()).toContain('tiny-chat.gguf');
    expect(await other.innerText()).not.toContain('In use:');
    await expect.poll(() => page.getByTestId('runtime-status').innerText()).toContain('Runtime:');
    expect(await page.getByTestId('tokens-per-second').count()).toBe(0);
  });
});
