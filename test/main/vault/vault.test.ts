import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addNote, countNotes, listNotes } from '../../../src-main/agent/notes.js';
import { tenantDataKey } from '../../../src-main/vault/handle.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('vault', () => {
  it('creates one owner-only encrypted file per tenant, named by a random id only', async () => {
    const vault = await freshVault();
    const acme = vault.createTenant('Acme Corp');
    const globex = vault.createTenant('Globex');
    expect(acme.id).toMatch(/^t_[a-z2-7]{26}$/);
    expect(acme.id).not.toBe(globex.id);
    const files = fs.readdirSync(vault.paths.tenants).sort();
    expect(files).toEqual([`${acme.id}.bulkhead`, `${globex.id}.bulkhead`].sort());
    expect(mode(vault.paths.dataDir)).toBe(0o700);
    expect(mode(vault.paths.tenants)).toBe(0o700);
    expect(mode(vault.paths.keyring)).toBe(0o600);
    expect(mode(vault.paths.registry)).toBe(0o600);
    for (const f of files) expect(mode(path.join(vault.paths.tenants, f))).toBe(0o600);
    vault.lock();
  });

  it('opens a tenant with WAL, sqlite-vec, FTS5, secure_delete and in-memory temp storage', async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    const t = vault.openSession().open(id);
    expect(t.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.db.pragma('secure_delete', { simple: true })).toBe(1);
    expect(t.db.pragma('temp_store', { simple: true })).toBe(2);
    expect(t.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(t.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(t.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(1);
    expect(t.db.prepare('SELECT vec_version()').pluck().get()).toMatch(/^v0\./);
    t.db.exec("CREATE VIRTUAL TABLE scratch_fts USING fts5(body); INSERT INTO scratch_fts VALUES ('hello world')");
    expect(t.db.prepare("SELECT count(*) FROM scratch_fts WHERE scratch_fts MATCH 'hello'").pluck().get()).toBe(1);
    t.db.exec('CREATE VIRTUAL TABLE scratch_vec USING vec0(e float[2])');
    vault.lock();
  });

  it('keeps data across lock and unlock, and a fresh Vault object reads it back', async () => {
    const dir = tempDir();
    const vault = await freshVault(dir);
    const { id } = vault.createTenant('Acme');
    addNote(vault.openSession().open(id), { title: 'kickoff', body: 'budget is 40k' });
    vault.lock();
    expect(vault.state).toBe('locked');
    const again = new Vault(dir);
    expect(again.state).toBe('locked');
    await again.unlock(TEST_PASSPHRASE);
    const notes = listNotes(again.openSession().open(id));
    expect(notes.map((n) => n.body)).toEqual(['budget is 40k']);
    again.lock();
  });

  it('holds at most one open tenant per session: opening B closes A and zeroes its key', async () => {
    const vault = await freshVault();
    const a = vault.createTenant('A');
    const b = vault.createTenant('B');
    const session = vault.openSession();
    const ha = session.open(a.id);
    const keyA = tenantDataKey(ha);
    expect(keyA.some((x) => x !== 0)).toBe(true);
    const hb = session.open(b.id);
    expect(session.current).toBe(hb);
    expect(ha.isOpen).toBe(false);
    expect(keyA.every((x) => x === 0)).toBe(true);
    expect(() => countNotes(ha)).toThrow(expect.objectContaining({ code: 'TENANT_CLOSED' }));
    expect(countNotes(hb)).toBe(0);
    vault.lock();
  });

  it('lock closes every handle, zeroes every key and answers every call with LOCKED', async () => {
    const vault = await freshVault();
    const a = vault.createTenant('A');
    const s1 = vault.openSession();
    const s2 = vault.openSession();
    const h1 = s1.open(a.id);
    const h2 = s2.open(a.id);
    const keys = [tenantDataKey(h1), tenantDataKey(h2)];
    vault.lock();
    expect(h1.isOpen || h2.isOpen).toBe(false);
    for (const k of keys) expect(k.every((x) => x === 0)).toBe(true);
    expect(() => countNotes(h1)).toThrow(expect.objectContaining({ code: 'TENANT_CLOSED' }));
    expect(() => vault.listTenants()).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    expect(() => vault.createTenant('C')).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    expect(() => vault.openSession()).toThrow(expect.objectContaining({ code: 'LOCKED' }));
    expect(() => s1.open(a.id)).toThrow(expect.objectContaining({ code: 'LOCKED' }));
  });

  it('renames without touching the file and refuses a name another tenant holds', async () => {
    const vault = await freshVault();
    const a = vault.createTenant('Acme');
    vault.createTenant('Globex');
    expect(vault.renameTenant(a.id, 'Acme Holdings').name).toBe('Acme Holdings');
    expect(() => vault.renameTenant(a.id, 'GLOBEX')).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    expect(vault.renameTenant(a.id, 'ACME HOLDINGS').name).toBe('ACME HOLDINGS');
    expect(vault.listTenants().map((t) => t.name)).toEqual(['ACME HOLDINGS', 'Globex']);
    vault.lock();
  });

  it('delete destroys the wrapped key and the .bulkhead, -wal and -shm files, and says so', async () => {
    const vault = await freshVault();
    const a = vault.createTenant('Acme');
    const b = vault.createTenant('Globex');
    const session = vault.openSession();
    addNote(session.open(a.id), { title: 'x', body: 'y' });
    // A second process (here: a second Vault on the same folder) keeps -wal and -shm alive.
    const other = new Vault(vault.paths.dataDir);
    await other.unlock(TEST_PASSPHRASE);
    other.openSession().open(a.id);
    const base = path.join(vault.paths.tenants, `${a.id}.bulkhead`);
    expect(fs.existsSync(`${base}-wal`) && fs.existsSync(`${base}-shm`)).toBe(true);
    const receipt = vault.deleteTenant(a.id);
    expect(receipt).toMatchObject({ tenantId: a.id, name: 'Acme', keyDestroyed: true });
    expect(receipt.filesRemoved.sort()).toEqual([`${a.id}.bulkhead`, `${a.id}.bulkhead-shm`, `${a.id}.bulkhead-wal`]);
    other.lock();
    expect(session.current).toBeNull();
    expect(fs.readdirSync(vault.paths.tenants)).toEqual([`${b.id}.bulkhead`]);
    expect(() => vault.getTenant(a.id)).toThrow(expect.objectContaining({ code: 'TENANT_NOT_FOUND' }));
    expect(() => session.open(a.id)).toThrow(expect.objectContaining({ code: 'TENANT_NOT_FOUND' }));
    expect(countNotes(session.open(b.id))).toBe(0);
    vault.lock();
  });

  it('refuses to initialise a data folder twice and leaves the keyring as it was', async () => {
    const dir = tempDir();
    const vault = await freshVault(dir);
    vault.lock();
    const before = fs.readFileSync(path.join(dir, 'keyring.json'));
    await expect(new Vault(dir).initialize('another passphrase')).rejects.toMatchObject({ code: 'ALREADY_INITIALIZED' });
    expect(fs.readFileSync(path.join(dir, 'keyring.json')).equals(before)).toBe(true);
  });

  it('a data folder without a vault says NOT_INITIALIZED', async () => {
    const vault = new Vault(tempDir());
    expect(vault.state).toBe('uninitialized');
    await expect(vault.unlock('whatever passphrase')).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    expect(() => vault.listTenants()).toThrow(expect.objectContaining({ code: 'NOT_INITIALIZED' }));
  });

  it('refuses a weak passphrase at initialisation', async () => {
    await expect(new Vault(tempDir()).initialize('short')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});
