import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeCall, invokeStream } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
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
});
afterEach(() => s.lock());

async function tenant(name: string): Promise<string> {
  return (await ok<{ id: string }>(invokeCall(s, 'tenants.create', { name }))).id;
}

describe('the api dispatcher', () => {
  it('answers LOCKED for tenant calls once locked, and NO_TENANT_OPEN before a tenant is open', async () => {
    expect(await invokeCall(s, 'documents.list', {})).toMatchObject({ ok: false, error: { code: 'NO_TENANT_OPEN' } });
    await ok(invokeCall(s, 'vault.lock', {}));
    expect(await invokeCall(s, 'tenants.list', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    expect(await invokeCall(s, 'vault.unlock', { passphrase: 'wrong passphrase' })).toMatchObject({ ok: false, error: { code: 'WRONG_PASSPHRASE' } });
  });

  it('open returns the name and a colour; the list never shows wrapped keys', async () => {
    const id = await tenant('Colour Co');
    const open = await ok<Record<string, unknown>>(invokeCall(s, 'tenants.open', { tenantId: id }));
    expect(open).toMatchObject({ id, name: 'Colour Co', documents: 0 });
    expect(open.colour).toMatch(/^#[0-9a-f]{6}$/);
    const list = await ok<Record<string, unknown>[]>(invokeCall(s, 'tenants.list', {}));
    expect(Object.keys(list[0]!).sort()).toEqual(['colour', 'createdAt', 'id', 'name']);
  });

  it('an upload made for one tenant cannot be ingested into another', async () => {
    const a = await tenant('Alpha Upload');
    const b = await tenant('Beta Upload');
    await ok(invokeCall(s, 'tenants.open', { tenantId: a }));
    const u = await s.uploads.add(a, 'a.txt', Buffer.from('alpha text'));
    await ok(invokeCall(s, 'tenants.open', { tenantId: b }));
    // The switch discarded A's pending uploads, and B cannot name them.
    expect(s.uploads.pending).toBe(0);
    const r = await invokeStream(s, 'ingest.run', { uploadIds: [u.uploadId] }, () => undefined, new AbortController().signal);
    expect(r).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
  });

  it('progress of tenant A that arrives after a switch to B is dropped, and the run reports CANCELLED', async () => {
    const a = await tenant('Alpha Stream');
    const b = await tenant('Beta Stream');
    await ok(invokeCall(s, 'tenants.open', { tenantId: a }));
    const ids = [];
    for (let i = 0; i < 30; i++) ids.push((await s.uploads.add(a, `doc${i}.txt`, Buffer.from(`alpha document ${i} `.repeat(2000)))).uploadId);
    const events: unknown[] = [];
    let switched = false;
    const run = invokeStream(
      s,
      'ingest.run',
      { uploadIds: ids },
      (e) => {
        events.push(e);
        if (!switched && (e as { type: string }).type === 'file-done') {
          switched = true;
          void invokeCall(s, 'tenants.open', { tenantId: b });
        }
      },
      new AbortController().signal,
    );
    const r = await run;
    expect(switched).toBe(true);
    expect(r).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    const afterSwitch = events.findIndex((e) => (e as { type: string }).type === 'file-done');
    // Nothing after the first file-done (the moment of the switch) reached the listener.
    expect(events.length).toBe(afterSwitch + 1);
    expect(s.uploads.pending).toBe(0);
  });

  it('presentation mode: main lists only the presented tenant and refuses every other until the passphrase', async () => {
    const a = await tenant('Alpha Present');
    const b = await tenant('Beta Present');
    await ok(invokeCall(s, 'presentation.enter', { tenantId: b }));
    expect((await ok<{ name: string }[]>(invokeCall(s, 'tenants.list', {}))).map((t) => t.name)).toEqual(['Beta Present']);
    expect(await invokeCall(s, 'tenants.open', { tenantId: a })).toMatchObject({ ok: false, error: { code: 'PRESENTATION_MODE' } });
    expect(await invokeCall(s, 'tenants.create', { name: 'Gamma' })).toMatchObject({ ok: false, error: { code: 'PRESENTATION_MODE' } });
    expect(await invokeCall(s, 'presentation.exit', { passphrase: 'wrong passphrase' })).toMatchObject({ ok: false, error: { code: 'WRONG_PASSPHRASE' } });
    await ok(invokeCall(s, 'presentation.exit', { passphrase: TEST_PASSPHRASE }));
    expect(await ok<unknown[]>(invokeCall(s, 'tenants.list', {}))).toHaveLength(2);
  });

  it('main locks by itself when no call came for the idle limit (a closed tab), zeroing what it held', async () => {
    const idle = new ConsoleSession({ dataDir: s.vault.paths.dataDir, idleLockSeconds: 1 });
    await ok(invokeCall(idle, 'vault.unlock', { passphrase: TEST_PASSPHRASE }));
    const id = (await ok<{ id: string }>(invokeCall(idle, 'tenants.create', { name: 'Idle Co' }))).id;
    const handle = await ok(invokeCall(idle, 'tenants.open', { tenantId: id })).then(() => idle.current!);
    await new Promise((r) => setTimeout(r, 2500));
    expect(idle.vault.state).toBe('locked');
    expect(handle.isOpen).toBe(false);
    expect(await invokeCall(idle, 'documents.list', {})).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
    idle.dispose();
  });

  it('deleting a tenant needs its name typed', async () => {
    const a = await tenant('Delete Me Ltd');
    expect(await invokeCall(s, 'tenants.delete', { tenantId: a, confirmName: 'Delete Me' })).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    await ok(invokeCall(s, 'tenants.delete', { tenantId: a, confirmName: 'delete me ltd' }));
    expect(await ok<unknown[]>(invokeCall(s, 'tenants.list', {}))).toHaveLength(0);
  });
});
