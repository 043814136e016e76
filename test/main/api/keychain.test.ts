import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeCall } from '../../../src-main/api/dispatch.js';
import type { KeychainBackend } from '../../../src-main/api/keychain.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

/**
 * Electron's safeStorage cannot run under Node; this stands in for the OS keychain with real
 * AES-GCM under a key the "OS" holds, so the console's policy around it is what is tested.
 */
function osKeychain(backend: string, key = crypto.randomBytes(32)): KeychainBackend & { name: string } {
  const k = {
    name: backend,
    backend: () => k.name,
    isAvailable: () => true,
    encrypt(text: string): Buffer {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(text, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), ct]);
    },
    decrypt(blob: Buffer): string {
      const d = crypto.createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
      d.setAuthTag(blob.subarray(12, 28));
      return Buffer.concat([d.update(blob.subarray(28)), d.final()]).toString('utf8');
    },
  };
  return k;
}

let dataDir: string;
beforeEach(() => {
  dataDir = tempDir();
});
const sessions: ConsoleSession[] = [];
afterEach(() => sessions.splice(0).forEach((s) => s.lock()));

function session(os: KeychainBackend | undefined): ConsoleSession {
  const s = new ConsoleSession({ dataDir, kdf: TEST_KDF, ...(os ? { keychain: os } : {}) });
  sessions.push(s);
  return s;
}

describe('keychain unlock (opt-in)', () => {
  it('unlocks a restarted console with the stored key, and tenants open', async () => {
    const os = osKeychain('gnome_libsecret');
    const a = session(os);
    await invokeCall(a, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    const t = await invokeCall(a, 'tenants.create', { name: 'Keychain Co' });
    expect(await invokeCall(a, 'keychain.enable', { passphrase: 'not it at all' })).toMatchObject({ ok: false, error: { code: 'WRONG_PASSPHRASE' } });
    expect(await invokeCall(a, 'keychain.enable', { passphrase: TEST_PASSPHRASE })).toMatchObject({ ok: true, value: { keychain: { enabled: true } } });
    expect(fs.readFileSync(a.keychain.file, 'utf8')).not.toMatch(/[0-9a-f]{64}/);
    a.lock();

    const b = session(os);
    expect(await invokeCall(b, 'vault.unlockWithKeychain', {})).toMatchObject({ ok: true, value: { state: 'unlocked' } });
    expect(await invokeCall(b, 'tenants.open', { tenantId: (t as { value: { id: string } }).value.id })).toMatchObject({ ok: true });
  });

  it('does not end presentation mode: after a lock only the passphrase shows the other clients again', async () => {
    const s = session(osKeychain('gnome_libsecret'));
    await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    await invokeCall(s, 'keychain.enable', { passphrase: TEST_PASSPHRASE });
    const t = (await invokeCall(s, 'tenants.create', { name: 'Shown Co' })) as { value: { id: string } };
    await invokeCall(s, 'tenants.create', { name: 'Hidden Co' });
    await invokeCall(s, 'presentation.enter', { tenantId: t.value.id });
    await invokeCall(s, 'vault.lock', {});
    expect(await invokeCall(s, 'vault.unlockWithKeychain', {})).toMatchObject({ ok: false, error: { code: 'PRESENTATION_MODE' } });
    expect(await invokeCall(s, 'vault.unlock', { passphrase: TEST_PASSPHRASE })).toMatchObject({ ok: true, value: { presentation: false } });
    expect(await invokeCall(s, 'tenants.list', {})).toMatchObject({ value: [{ name: 'Hidden Co' }, { name: 'Shown Co' }] });
  });

  it('refuses the basic_text backend', async () => {
    const s = session(osKeychain('basic_text'));
    await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    expect((await invokeCall(s, 'vault.status', {})) as unknown).toMatchObject({ value: { keychain: { supported: false } } });
    expect(await invokeCall(s, 'keychain.enable', { passphrase: TEST_PASSPHRASE })).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(fs.existsSync(s.keychain.file)).toBe(false);
  });

  it('never re-keys silently when the backend changed, and asks for the passphrase', async () => {
    const key = crypto.randomBytes(32);
    const a = session(osKeychain('kwallet5', key));
    await invokeCall(a, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    await invokeCall(a, 'keychain.enable', { passphrase: TEST_PASSPHRASE });
    a.lock();
    const before = fs.readFileSync(a.keychain.file);
    const b = session(osKeychain('kwallet6', key));
    expect(await invokeCall(b, 'vault.unlockWithKeychain', {})).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
    expect(b.vault.state).toBe('locked');
    expect(fs.readFileSync(a.keychain.file)).toEqual(before);
  });

  it('a key stored for another vault (or a replaced keyring) does not unlock this one', async () => {
    const os = osKeychain('gnome_libsecret');
    const a = session(os);
    await invokeCall(a, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    await invokeCall(a, 'keychain.enable', { passphrase: TEST_PASSPHRASE });
    a.lock();
    const stolen = fs.readFileSync(a.keychain.file);
    dataDir = tempDir();
    const b = session(os);
    await invokeCall(b, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    b.lock();
    fs.writeFileSync(b.keychain.file, stolen);
    expect(await invokeCall(b, 'vault.unlockWithKeychain', {})).toMatchObject({ ok: false, error: { code: 'WRONG_PASSPHRASE' } });
    expect(b.vault.state).toBe('locked');
  });

  it('is unavailable on the web host (no keychain backend)', async () => {
    const s = session(undefined);
    await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
    expect(await invokeCall(s, 'keychain.enable', { passphrase: TEST_PASSPHRASE })).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });
});
