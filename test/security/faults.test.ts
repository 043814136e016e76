// Fault injection: the disk fills during an ingestion, a tenant file is deleted or replaced while
// open, the keyring is damaged, two processes write one tenant. Each time: a clear error, nothing
// already stored lost, no half document, and the other tenants unaffected.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addNote, listNotes } from '../../src-main/agent/notes.js';
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { activeVectorIndex, generationTables } from '../../src-main/index/vectors.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import { Vault } from '../../src-main/vault/vault.js';
import { freshVault, hashTree, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function vaultWithTwoTenants(): Promise<{ vault: Vault; dir: string; a: string; b: string }> {
  const dir = tempDir('bulkhead-faults-');
  dirs.push(dir);
  const vault = await freshVault(dir);
  const a = vault.createTenant('Acme').id;
  const b = vault.createTenant('Birch').id;
  const t = vault.openSession().open(b);
  addNote(t, { title: 'kept', body: 'Birch keeps this note' });
  vault.lock();
  await vault.unlock(TEST_PASSPHRASE);
  return { vault, dir, a, b };
}

function writeDocs(folder: string, count: number, paragraphs: number): void {
  fs.mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) {
    const text = Array.from({ length: paragraphs }, (_, p) => `Section ${p} of report ${i}: invoices, shipments and renewal terms ${i * 31 + p}.`).join('\n\n');
    fs.writeFileSync(path.join(folder, `report-${String(i).padStart(3, '0')}.md`), `# Report ${i}\n\n${text}\n`);
  }
}

/** Every document whole: its chunk count, and each chunk with its full-text row and vectors. */
function expectWholeDocuments(t: TenantHandle): number {
  const count = (sql: string): number => Number(t.db.prepare(sql).pluck().get());
  expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
  const chunks = count('SELECT count(*) FROM chunks');
  expect(count('SELECT count(*) FROM documents d WHERE chunk_count <> (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)')).toBe(0);
  expect(count('SELECT count(*) FROM chunks_fts')).toBe(chunks);
  const index = activeVectorIndex(t);
  if (index) for (const table of generationTables(index)) expect(count(`SELECT count(*) FROM ${table}`)).toBe(chunks);
  return count('SELECT count(*) FROM documents');
}

function runChild(args: string[], fileSizeLimitKiB?: number): Promise<{ code: number | null; out: string; err: string }> {
  const node = [process.execPath, '--import', 'tsx', 'test/helpers/child-ingest-report.ts', ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const script = fileSizeLimitKiB === undefined ? `exec ${node}` : `ulimit -f ${fileSizeLimitKiB} && exec ${node}`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('fault injection', () => {
  it('a disk that fills during an ingestion: the failing documents are reported, the stored ones stay whole, the other tenant is untouched', async () => {
    const { vault, dir, a, b } = await vaultWithTwoTenants();
    const warmup = path.join(dir, 'warmup');
    writeDocs(warmup, 3, 20);
    let t = vault.openSession().open(a);
    await ingestPaths(t, [warmup], { embedder: new HashedEmbedder() });
    expect(expectWholeDocuments(t)).toBe(3);
    vault.lock();
    const birchBefore = fs.readFileSync(vault.paths.tenantFile(b));

    // No file of this process may grow past the tenant file's size plus 512 KiB: enough for a
    // few documents, not for sixty (about 60 KiB of text each, several times that indexed).
    const folder = path.join(dir, 'batch');
    writeDocs(folder, 60, 400);
    const limitKiB = Math.ceil(fs.statSync(vault.paths.tenantFile(a)).size / 1024) + 512;
    const run = await runChild([vault.paths.dataDir, a, folder], limitKiB);
    expect(run.code, run.err).toBe(0);
    const report = JSON.parse(run.out.trim().split('\n').at(-1)!) as { added: number; failed: number; failures: { code: string; reason: string }[] };
    expect(report.failed).toBeGreaterThan(0);
    expect(report.added).toBeLessThan(60);
    for (const f of report.failures) {
      expect(f.code).toMatch(/DISK_FULL|IO_ERROR/);
      expect(f.reason).toMatch(/disk is full|cannot (read or )?write/);
    }

    await vault.unlock(TEST_PASSPHRASE);
    t = vault.openSession().open(a);
    expect(expectWholeDocuments(t)).toBe(3 + report.added);
    expect(fs.readFileSync(vault.paths.tenantFile(b)).equals(birchBefore)).toBe(true);
    const birch = vault.openSession().open(b);
    expect(listNotes(birch).map((n) => n.title)).toEqual(['kept']);
    vault.lock();
  });

  it('a tenant file deleted while open: the next call says so and closes it; the others work on', async () => {
    const { vault, a, b } = await vaultWithTwoTenants();
    const session = vault.openSession();
    const t = session.open(a);
    addNote(t, { title: 'before', body: 'written before the delete' });
    fs.rmSync(vault.paths.tenantFile(a));
    expect(() => addNote(t, { title: 'after', body: 'would go nowhere' })).toThrow(
      expect.objectContaining({ code: 'TENANT_CORRUPT', message: expect.stringMatching(/Acme.*deleted or replaced while it was open/) }),
    );
    expect(() => listNotes(t)).toThrow(expect.objectContaining({ code: 'TENANT_CLOSED' }));
    expect(() => session.open(a)).toThrow(expect.objectContaining({ code: 'TENANT_CORRUPT', message: expect.stringContaining('Acme') }));
    expect(listNotes(session.open(b)).map((n) => n.title)).toEqual(['kept']);
    vault.lock();
  });

  it("a tenant file replaced by another tenant's file while open: refused, never read as the other tenant", async () => {
    const { vault, dir, a, b } = await vaultWithTwoTenants();
    const session = vault.openSession();
    const t = session.open(a);
    addNote(t, { title: 'acme only', body: 'Acme secret' });
    const copy = path.join(dir, 'birch-copy');
    fs.copyFileSync(vault.paths.tenantFile(b), copy);
    fs.renameSync(copy, vault.paths.tenantFile(a));
    expect(() => listNotes(t)).toThrow(expect.objectContaining({ code: 'TENANT_CORRUPT' }));
    // Reopened, the file is Birch's, under Birch's key: Acme's key does not open it.
    expect(() => session.open(a)).toThrow(expect.objectContaining({ code: 'TENANT_CORRUPT', message: expect.stringContaining('Acme') }));
    expect(listNotes(session.open(b)).map((n) => n.title)).toEqual(['kept']);
    vault.lock();
  });

  it('a damaged keyring: unlock refuses with KEYRING_CORRUPT and changes no byte of any file', async () => {
    const { vault, dir } = await vaultWithTwoTenants();
    vault.lock();
    const keyring = vault.paths.keyring;
    const bytes = fs.readFileSync(keyring);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    fs.writeFileSync(keyring, bytes);
    const before = hashTree(dir);
    await expect(new Vault(dir).unlock(TEST_PASSPHRASE)).rejects.toMatchObject({ code: 'KEYRING_CORRUPT' });
    fs.writeFileSync(keyring, 'not json at all');
    await expect(new Vault(dir).unlock(TEST_PASSPHRASE)).rejects.toMatchObject({ code: 'KEYRING_CORRUPT' });
    fs.writeFileSync(keyring, bytes);
    // A failed unlock is noted (ids and codes) for the vault audit chain; nothing else changes.
    const { 'vault-audit.pending.jsonl': _pending, ...rest } = hashTree(dir);
    expect(rest).toEqual(before);
  });

  it('two processes ingesting into the same tenant at once: both finish, every document whole', async () => {
    const { vault, dir, a } = await vaultWithTwoTenants();
    vault.lock();
    const one = path.join(dir, 'one');
    const two = path.join(dir, 'two');
    writeDocs(one, 25, 30);
    writeDocs(two, 25, 30);
    const runs = await Promise.all([runChild([vault.paths.dataDir, a, one]), runChild([vault.paths.dataDir, a, two])]);
    const reports = runs.map((r) => {
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out.trim().split('\n').at(-1)!) as { added: number; failed: number; failures: { code: string }[] };
    });
    // A writer that waited longer than the busy timeout reports TENANT_BUSY for that file: never a crash.
    for (const r of reports) for (const f of r.failures) expect(f.code).toBe('TENANT_BUSY');
    await vault.unlock(TEST_PASSPHRASE);
    const t = vault.openSession().open(a);
    expect(expectWholeDocuments(t)).toBe(reports[0]!.added + reports[1]!.added);
    expect(reports[0]!.added + reports[1]!.added).toBeGreaterThan(25);
    vault.lock();
  });
});
