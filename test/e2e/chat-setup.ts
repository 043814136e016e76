// Shared steps of the chat e2e tests.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { TEST_PASSPHRASE } from '../helpers/vault.js';
import { fileInput } from './harness.js';
import type { ModelServer } from './model-server.js';

/** A vault, a client with one document mentioning `canary`, a loopback chat model, and the Ask screen. */
export async function setUpChat(page: Page, m: ModelServer, canary: string): Promise<void> {
  await page.locator('input[name=new-passphrase]').fill(TEST_PASSPHRASE);
  await page.locator('input[name=confirm-passphrase]').fill(TEST_PASSPHRASE);
  await page.getByLabel(/Add two sample clients/).uncheck();
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByPlaceholder('New client name').fill('Marmot Analytics');
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByTestId('open-tenant-name').filter({ hasText: 'Marmot Analytics' }).waitFor();
  await page.getByTestId('file-picker').setInputFiles([fileInput('terms.md', `# Renewal terms\n\nThe contract renews each March. Reference ${canary}.`)]);
  await page.getByTestId('ingest-summary').waitFor();
  await page.getByRole('button', { name: 'Settings' }).click();
  const section = page.getByRole('region', { name: 'Chat model' });
  await section.getByLabel('Endpoint', { exact: true }).fill(m.baseUrl);
  await section.getByLabel('Model', { exact: true }).fill('loopback-model');
  await section.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => section.innerText()).toContain('Saved.');
  await section.getByRole('button', { name: 'Test connection' }).click();
  await expect.poll(() => section.innerText()).toContain('Connected');
  await page.getByRole('button', { name: 'Ask' }).first().click();
}

export async function ask(page: Page, question: string): Promise<void> {
  await page.getByLabel('Question').fill(question);
  await page.getByLabel('Question').press('Enter');
}
