import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src-main/embed/settings.js';
import '../../src-main/egress/policy.js';
import { BUNDLE_MAGIC, encodeHeader, openBundle } from '../../src-main/vault/bundle.js';
import { newTenantId } from '../../src-main/vault/ids.js';
import type { KdfParams } from '../../src-main/vault/keyring.js';
import { openRaw, tableDigests } from '../../src-main/vault/snapshot.js';
import type { Db } from '../../src-main/vault/sqlite.js';
import { sha256File } from '../../src-main/vault/snapshot.js';
import { searchKnowledge } from '../../src-main/retrieval/knowledge.js';
import { termSpaceDue } from '../../src-main/retrieval/term-space-job.js';
import { populateTenant } from '../helpers/lifecycle.js';
import { freshVault, hashTree, TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const EXPORT_PASS = 'the client knows this export passphrase';

/** A real export, then a crafter that edits its database and re-seals it as its author could. */
async function craftable(): Promise<{ craft: (edit: Craft) => Promise<string>; bundle: string }> {
  const vault = await freshVault();
  const { id } = vault.createTenant('Acme Corp');
  await populateTenant(vault, id, 'canary-crafted-7741', 2);
  const bundle = path.join(tempDir(), 'acme.bulkhead-export');
  await vault.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
  vault.lock();
  const bytes = fs.readFileSync(bundle);
  const headerLen = bytes.readUInt32BE(BUNDLE_MAGIC.length);
  const header = JSON.parse(bytes.subarray(BUNDLE_MAGIC.length + 4, BUNDLE_MAGIC.length + 4 + headerLen).toString('utf8')) as { kdf: KdfParams };
  const dbBytes = bytes.subarray(BUNDLE_MAGIC.length + 4 + headerLen);
  const craft = async (edit: Craft): Promise<string> => {
    const opened = await openBundle(bundle, EXPORT_PASS);
    const dir = tempDir('bulkhead-craft-');
    const dbFile = path.join(dir, 'db');
    fs.writeFileSync(dbFile, dbBytes, { mode: 0o600 });
    const db = openRaw(dbFile, opened.keys.db, 'crafted');
    try {
      edit.db?.(db);
      opened.manifest.tables = tableDigests(db);
      opened.manifest.schemaVersion = Number(db.pragma('user_version', { simple: true }));
    } finally {
      db.close();
    }
    opened.manifest.db = { bytes: fs.statSync(dbFile).size, sha256: await sha256File(dbFile) };
    edit.manifest?.(opened.manifest);
    const out = path.join(dir, 'crafted.bulkhead-export');
    fs.writeFileSync(out, Buffer.concat([encodeHeader(opened.keys, header.kdf, opened.manifest), fs.readFileSync(dbFile)]));
    opened.keys.destroy();
    return out;
  };
  return { craft, bundle };
}

interface Craft {
  db?: (db: Db) => void;
  manifest?: (m: Awaited<ReturnType<typeof openBundle>>['manifest']) => void;
}

const CASES: [string, Craft, string][] = [
  [
    'a RAISE(ABORT) trigger on the audit log',
    { db: (db) => db.exec("CREATE TRIGGER boom BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'chosen by the bundle author'); END") },
    'BUNDLE_INVALID',
  ],
  [
    'a load_extension trigger',
    { db: (db) => db.exec("CREATE TRIGGER ext AFTER INSERT ON notes BEGIN SELECT load_extension('/tmp/evil.so'); END") },
    'BUNDLE_INVALID',
  ],
  ['a tenant id that differs from the manifest', { manifest: (m) => (m.tenant.id = newTenantId()) }, 'BUNDLE_INVALID'],
  ['a lower user_version than its schema', { db: (db) => db.pragma('user_version = 5') }, 'BUNDLE_INVALID'],
  ['an unknown, newer user_version', { db: (db) => db.pragma('user_version = 99') }, 'VERSION_UNSUPPORTED'],
  ['the audit append-only triggers dropped', { db: (db) => db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete') }, 'BUNDLE_INVALID'],
  ['a harmless-looking extra trigger', { db: (db) => db.exec('CREATE TRIGGER mine AFTER INSERT ON notes BEGIN SELECT 1; END') }, 'BUNDLE_INVALID'],
  ['an extra view', { db: (db) => db.exec('CREATE VIEW v AS SELECT * FROM notes') }, 'BUNDLE_INVALID'],
  ['an extra index', { db: (db) => db.exec('CREATE INDEX notes_extra ON notes (title)') }, 'BUNDLE_INVALID'],
  ['an extra table', { db: (db) => db.exec('CREATE TABLE extra (x TEXT)') }, 'BUNDLE_INVALID'],
  [
    'a missing index',
    {
      db: (db) => {
        const n = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL LIMIT 1").pluck().get() as string;
        db.exec(`DROP INDEX "${n}"`);
      },
    },
    'BUNDLE_INVALID',
  ],
  [
    'an embedder setting that is not JSON',
    {
      db: (db) =>
        db
          .prepare("INSERT INTO tenant_meta (key, value) VALUES ('knowledge.embedder', '{not json') ON CONFLICT (key) DO UPDATE SET value = excluded.value")
          .run(),
    },
    'BUNDLE_INVALID',
  ],
  [
    'an agent policy of the wrong shape',
    {
      db: (db) =>
        db
          .prepare(
            'INSERT INTO tenant_meta (key, value) VALUES (\'agent.policy\', \'{"localModelsOnly":"no"}\') ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          )
          .run(),
    },
    'BUNDLE_INVALID',
  ],
];

describe('crafted import bundles (re-sealed by someone who knows the export passphrase)', () => {
  it('are each refused with a typed code, no raw SQLite text, and no byte of the vault changes', async () => {
    const { craft, bundle } = await craftable();
    const target = await freshVault();
    target.createTenant('Someone else');
    // After the unlock: an unlock is itself a record of the vault audit chain (its head is kept in
    // the registry); the refused imports must add nothing to any file.
    // (-shm is SQLite's shared-memory index of the open registry's WAL, rewritten by every reader.)
    const files = (): Record<string, string> => Object.fromEntries(Object.entries(hashTree(target.paths.dataDir)).filter(([f]) => !f.endsWith('-shm')));
    const before = files();
    for (const [what, edit, code] of CASES) {
      const file = await craft(edit);
      const err = await target.importTenant(file, EXPORT_PASS).then(
        () => null,
        (e: unknown) => e as { code?: string; message?: string },
      );
      expect(err, what).not.toBeNull();
      expect({ what, code: err!.code }).toEqual({ what, code });
      expect(err!.message).not.toMatch(/chosen by the bundle author|load_extension|SQLITE_|malformed|not authorized/);
      expect(
        target.listTenants().map((t) => t.name),
        what,
      ).toEqual(['Someone else']);
    }
    expect(files()).toEqual(before);
    target.lock();
    // The untouched bundle and an unchanged re-seal still import: the checks refuse only what was crafted.
    await target.unlock(TEST_PASSPHRASE);
    await expect(target.importTenant(bundle, EXPORT_PASS)).resolves.toMatchObject({ name: 'Acme Corp' });
    await expect(target.importTenant(await craft({}), EXPORT_PASS, { rename: 'Acme again' })).resolves.toMatchObject({ newId: true });
    for (const t of target.listTenants()) target.openSession().open(t.id);
    target.lock();
  });

  it('a bundle whose learnt term space is hostile imports, but its model is never used: search answers from full text, and the tenant learns its own', async () => {
    const { craft } = await craftable();
    // The author points the offline embedder at a model of their making: a header claiming
    // millions of stems, NaN weights, and a name that is not its bytes' hash.
    const header = Buffer.from(JSON.stringify({ format: 'terms-v1', rank: 1024, chunks: 1, stems: ['x'] }));
    const model = Buffer.concat([
      Buffer.from('BHTERMS1'),
      Buffer.from([header.length, 0, 0, 0]),
      header,
      Buffer.alloc(3),
      Buffer.from(new Float32Array([Number.NaN]).buffer),
    ]);
    const space = 'a'.repeat(64);
    const file = await craft({
      db: (db) => {
        db.prepare('INSERT INTO term_spaces (sha256, model, created_at) VALUES (?, ?, ?)').run(space, model, new Date().toISOString());
        db.prepare("INSERT OR REPLACE INTO tenant_meta (key, value) VALUES ('knowledge.embedder', ?)").run(
          JSON.stringify({ kind: 'terms', space, dimension: 384 + 1024, chunks: 1 }),
        );
        const index = JSON.parse(db.prepare("SELECT value FROM tenant_meta WHERE key = 'knowledge.vectors'").pluck().get() as string);
        db.prepare("UPDATE tenant_meta SET value = ? WHERE key = 'knowledge.vectors'").run(
          JSON.stringify({ ...index, embedderId: `terms-v1:${space}`, dimension: 384 + 1024 }),
        );
      },
    });
    const target = await freshVault();
    const imported = await target.importTenant(file, EXPORT_PASS);
    const tenant = target.openSession().open(imported.tenantId);
    const found = await searchKnowledge(tenant, 'canary', { tune: false });
    expect(found.mode).toBe('full-text');
    expect(found.note).toMatch(/term space is damaged \(its bytes do not match its name\)/);
    // Too few chunks to learn from: the hostile model is not used, and nothing fails.
    expect(termSpaceDue(tenant)).toBeNull();
    target.lock();
  });

  it('from the CLI: a crafted bundle exits 5 with BUNDLE_INVALID, and no text of its author reaches the terminal', async () => {
    const { craft } = await craftable();
    const file = await craft(CASES[0]![1]);
    const target = await freshVault();
    target.lock();
    // The CLI writes its app log (ids and codes only), and its unlock is a record of the vault audit
    // chain (vault-audit.jsonl, its head in the registry); the keyring and the tenants must not change.
    const vaultFiles = (): Record<string, string> =>
      Object.fromEntries(Object.entries(hashTree(target.paths.dataDir)).filter(([f]) => /^(keyring\.json|tenants\/)/.test(f)));
    const before = vaultFiles();
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['keyring.json']));
    const r = spawnSync(process.execPath, [path.resolve('bin/bulkhead.js'), '--data-dir', target.paths.dataDir, 'import', file], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE, BULKHEAD_EXPORT_PASSPHRASE: EXPORT_PASS },
    });
    expect(r.stderr).toMatch(/\[BUNDLE_INVALID\]/);
    expect(r.stderr + r.stdout).not.toMatch(/chosen by the bundle author|SQLITE_|INTERNAL/);
    expect(r.status).toBe(5);
    expect(vaultFiles()).toEqual(before);
    await target.unlock(TEST_PASSPHRASE);
    expect(target.listTenants()).toEqual([]); // the registry never learned of it
    target.lock();
  });
});
