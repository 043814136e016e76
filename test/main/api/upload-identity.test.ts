import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeCall, invokeStream } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { safeFileName } from '../../../src-main/api/uploads.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

let s: ConsoleSession;

async function ok<T>(p: Promise<{ ok: boolean; value?: unknown; error?: unknown }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(`call failed: ${JSON.stringify(r.error)}`);
  return r.value as T;
}

beforeEach(async () => {
  s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
  await ok(invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE }));
  const { id } = await ok<{ id: string }>(invokeCall(s, 'tenants.create', { name: 'Acme Corp' }));
  await ok(invokeCall(s, 'tenants.open', { tenantId: id }));
});
afterEach(() => s.lock());

async function upload(name: string, text: string): Promise<{ files: { status: string; name: string }[] }> {
  const u = await s.uploads.add(s.scope().handle.id, name, Buffer.from(text));
  return ok(invokeStream(s, 'ingest.run', { uploadIds: [u.uploadId], tags: [] }, () => undefined, new AbortController().signal));
}

describe('an upload is identified by its source, not by its bare name', () => {
  it('two different notes.txt become two documents; nothing is replaced', async () => {
    expect((await upload('notes.txt', 'Meeting one: the Harrowgate budget is approved.')).files[0]).toMatchObject({ status: 'added', name: 'notes.txt' });
    expect((await upload('notes.txt', 'Meeting two: the Quillfeather launch slips to June.')).files[0]).toMatchObject({ status: 'added', name: 'notes.txt' });
    const docs = await ok<{ total: number; items: { title: string }[] }>(invokeCall(s, 'documents.list', {}));
    expect(docs.total).toBe(2);
    const hits = await ok<{ passages: { text: string }[] }>(invokeCall(s, 'knowledge.search', { query: 'Harrowgate budget approved', k: 5 }));
    expect(hits.passages.some((p) => p.text.includes('Meeting one'))).toBe(true);
  });

  it('the same bytes under the same name again are the same document: unchanged', async () => {
    await upload('notes.txt', 'Meeting one: the Harrowgate budget is approved.');
    expect((await upload('notes.txt', 'Meeting one: the Harrowgate budget is approved.')).files[0]).toMatchObject({ status: 'unchanged' });
    expect((await ok<{ total: number }>(invokeCall(s, 'documents.list', {}))).total).toBe(1);
  });

  it('upload names lose bidi controls and C1 controls: "invoice\\u202Efdp.txt" cannot pose as a PDF', () => {
    expect(safeFileName('invoice\u202Efdp.txt')).toBe('invoicefdp.txt');
    expect(safeFileName('a\u009b2Jb.md')).toBe('a2Jb.md');
  });
});
