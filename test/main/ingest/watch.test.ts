import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WatchStatus } from '../../../src-shared/contract.js';
import { invokeCall } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { listDocuments } from '../../../src-main/ingest/documents.js';
import { addWatchedFolder, confirmRemovedFiles, removeWatchedFolder, syncWatchedFolders, watchedFolders } from '../../../src-main/ingest/watch.js';
import { freshVault, TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

const embedder = new HashedEmbedder();

describe('watched folders (the tenant file holds the list)', () => {
  it('are off by default; a sync adds new files, replaces changed ones, and only lists removed ones until confirmed', async () => {
    const vault = await freshVault();
    const session = vault.openSession();
    const a = session.open(vault.createTenant('Acme').id);
    expect(watchedFolders(a)).toEqual([]);
    const dir = tempDir('bulkhead-watch-');
    fs.writeFileSync(path.join(dir, 'one.md'), '# One\n\nFirst file about herons.');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'two.txt'), 'Second file about owls.');
    fs.writeFileSync(path.join(dir, 'skip.bin'), Buffer.alloc(10));
    addWatchedFolder(a, dir);
    let s = await syncWatchedFolders(a, { embedder });
    expect(s).toMatchObject({ added: 2, replaced: 0, unchanged: 0, removed: [] });
    fs.writeFileSync(path.join(dir, 'one.md'), '# One\n\nFirst file, now about egrets.');
    fs.rmSync(path.join(dir, 'sub', 'two.txt'));
    s = await syncWatchedFolders(a, { embedder });
    expect(s).toMatchObject({ added: 0, replaced: 1 });
    expect(s.removed.map((r) => r.sourcePath)).toEqual([path.join(fs.realpathSync(dir), 'sub', 'two.txt')]);
    // Nothing is deleted before the user confirms.
    expect(
      listDocuments(a)
        .map((d) => d.title)
        .sort(),
    ).toEqual(['One', 'two']);
    expect(confirmRemovedFiles(a, [s.removed[0]!.documentId, listDocuments(a).find((d) => d.title === 'One')!.id])).toBe(1);
    expect(listDocuments(a).map((d) => d.title)).toEqual(['One']);

    // Another tenant sees none of it.
    const b = session.open(vault.createTenant('Beta').id);
    expect(watchedFolders(b)).toEqual([]);
    expect((await syncWatchedFolders(b, { embedder })).added).toBe(0);
    const again = session.open(a.id);
    expect(watchedFolders(again).map((f) => f.path)).toEqual([fs.realpathSync(dir)]);
    removeWatchedFolder(again, fs.realpathSync(dir));
    expect(watchedFolders(again)).toEqual([]);
  });

  it('refuses relative paths, files, missing folders, nested folders, with INPUT_INVALID', async () => {
    const vault = await freshVault();
    const a = vault.openSession().open(vault.createTenant('Acme').id);
    const dir = tempDir('bulkhead-watch-');
    fs.writeFileSync(path.join(dir, 'f.txt'), 'x');
    fs.mkdirSync(path.join(dir, 'inner'));
    addWatchedFolder(a, dir);
    for (const bad of ['relative/path', path.join(dir, 'f.txt'), path.join(dir, 'missing'), path.join(dir, 'inner'), '', '/', '//.']) {
      expect(() => addWatchedFolder(a, bad)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    }
  });
});

describe('the background job in a console session', () => {
  let s: ConsoleSession;
  beforeEach(async () => {
    s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
    await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
  });
  afterEach(() => s.dispose());

  async function call<T>(name: string, input: unknown): Promise<T> {
    const r = await invokeCall(s, name, input);
    if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.value as T;
  }
  const status = (): Promise<WatchStatus> => call<WatchStatus>('watch.status', {});
  const documents = async (): Promise<string[]> => (await call<{ items: { title: string }[] }>('documents.list', {})).items.map((d) => d.title).sort();

  it('picks up added files by itself while the tenant is open, and stops when the tenant closes', async () => {
    const a = (await call<{ id: string }>('tenants.create', { name: 'Acme' })).id;
    const b = (await call<{ id: string }>('tenants.create', { name: 'Beta' })).id;
    await call('tenants.open', { tenantId: a });
    const dir = tempDir('bulkhead-watch-job-');
    fs.writeFileSync(path.join(dir, 'first.txt'), 'The first file.');
    await call('watch.add', { path: dir });
    await expect.poll(documents, { timeout: 10_000 }).toEqual(['first']);
    await expect.poll(async () => (await status()).lastRun?.added, { timeout: 5_000 }).toBe(1);
    fs.writeFileSync(path.join(dir, 'second.txt'), 'The second file.');
    // No call asks for it: the folder watcher (or the timer) does.
    await expect.poll(documents, { timeout: 10_000 }).toEqual(['first', 'second']);

    // Switch to B: A's job stops; B shows none of A's folders.
    await call('tenants.open', { tenantId: b });
    expect((await status()).folders).toEqual([]);
    fs.writeFileSync(path.join(dir, 'third.txt'), 'The third file, written while A is closed.');
    await new Promise((r) => setTimeout(r, 2500));
    expect(await documents()).toEqual([]);
    await call('tenants.open', { tenantId: a });
    // Back on A: still two until the job (restarted by the status call) syncs.
    expect(await documents()).toEqual(['first', 'second']);
    await status();
    await expect.poll(documents, { timeout: 10_000 }).toEqual(['first', 'second', 'third']);

    // A removed file is listed, not deleted, until confirmed.
    fs.rmSync(path.join(dir, 'first.txt'));
    await call('watch.sync', {});
    await expect.poll(async () => (await status()).removed.map((r) => r.title), { timeout: 10_000 }).toEqual(['first']);
    expect(await documents()).toEqual(['first', 'second', 'third']);
    const removed = (await status()).removed.map((r) => r.documentId);
    await call('watch.confirmRemoved', { documentIds: removed });
    expect(await documents()).toEqual(['second', 'third']);
    await expect(call('watch.add', { path: 'not/absolute' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});
