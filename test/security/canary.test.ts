import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addNote } from '../../src-main/agent/notes.js';
import { freshVault, TEST_PASSPHRASE } from '../helpers/vault.js';

/** Every file under the data dir that holds any encoding of any needle. */
function plaintextHits(dir: string, needles: string[]): string[] {
  const patterns = needles.flatMap((n) => [Buffer.from(n, 'utf8'), Buffer.from(n, 'utf16le'), Buffer.from(n.toLowerCase(), 'utf8')]);
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const bytes = fs.readFileSync(p);
        for (const pat of patterns) if (bytes.includes(pat)) hits.push(`${path.relative(dir, p)}: ${pat.toString('hex').slice(0, 16)}…`);
      }
    }
  };
  walk(dir);
  return hits;
}

describe('a plaintext canary written to a tenant', () => {
  it('never appears in the bytes of any file under the data dir: tenant, -wal, -shm, keyring, registry', async () => {
    const canary = `CANARY-${crypto.randomBytes(12).toString('hex')}`;
    const clientName = `Zephyr Canary Holdings ${crypto.randomBytes(4).toString('hex')}`;
    const vault = await freshVault();
    const { id } = vault.createTenant(clientName);
    vault.createTenant('Another Client');
    const session = vault.openSession();
    const t = session.open(id);
    t.db.transaction(() => {
      for (let i = 0; i < 2000; i++) addNote(t, { title: `${canary} title ${i}`, body: `${canary} `.repeat(50) });
    })();
    addNote(t, { title: 'big', body: `${canary}\n`.repeat(20_000) });
    // Deleted text must not survive in free pages either (secure_delete).
    t.db.prepare('DELETE FROM notes WHERE id % 2 = 0').run();
    const files = fs.readdirSync(vault.paths.tenants);
    expect(files.some((f) => f.endsWith('-wal'))).toBe(true);
    expect(files.some((f) => f.endsWith('-shm'))).toBe(true);
    expect(plaintextHits(vault.paths.dataDir, [canary, clientName])).toEqual([]);

    // After a checkpoint the pages live in the main file; after lock, on disk only.
    t.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(plaintextHits(vault.paths.dataDir, [canary, clientName])).toEqual([]);
    vault.lock();
    expect(plaintextHits(vault.paths.dataDir, [canary, clientName])).toEqual([]);

    // And the canary is really there, readable with the key: the scan looked for something real.
    await vault.unlock(TEST_PASSPHRASE);
    const again = vault.openSession().open(id);
    expect(again.db.prepare('SELECT count(*) FROM notes WHERE instr(body, ?) > 0').pluck().get(canary)).toBe(1001);
    expect(vault.listTenants().map((x) => x.name)).toContain(clientName);
    vault.lock();
  });
});
