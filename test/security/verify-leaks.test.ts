import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmbedder } from '../../src-main/embed/index.js';
import { readEmbedderConfig } from '../../src-main/embed/settings.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { listAudit } from '../../src-main/vault/audit-chain.js';
import type { Vault } from '../../src-main/vault/vault.js';
import { runIsolationCheck, type IsolationReport } from '../../src-main/verify/isolation.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qui', 'dro', 'fen', 'gul', 'hax', 'jor'];

/** Prose of made-up words, different for each seed: no two tenants share a run of words by chance. */
function prose(seed: string, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const h = crypto.createHash('sha256').update(`${seed}:${i}`).digest();
    out.push(SYLLABLES[h[0]! % 16]! + SYLLABLES[h[1]! % 16]! + SYLLABLES[h[2]! % 16]!);
    if (i % 12 === 11) out[out.length - 1] += '.';
  }
  return out.join(' ');
}

async function ingestText(vault: Vault, id: string, files: Record<string, string>): Promise<void> {
  const dir = tempDir('bulkhead-leak-docs-');
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const session = vault.openSession();
  try {
    const t = session.open(id);
    await ingestPaths(t, [dir], { embedder: createEmbedder(t, readEmbedderConfig(t)) });
  } finally {
    session.dispose();
  }
  fs.rmSync(dir, { recursive: true });
}

const failing = (r: IsolationReport): Record<string, string[]> => Object.fromEntries(r.controls.filter((c) => !c.pass).map((c) => [c.id, c.findings]));

describe("verify looks for the real tenants' names and text", () => {
  it('passes on two clean tenants; fails on a client text ingested into another, until it is marked shared (audited)', async () => {
    const vault = await freshVault();
    const acme = vault.createTenant('Acme Corp').id;
    const beta = vault.createTenant('Beta Labs').id;
    const acmeText = prose('acme', 600);
    await ingestText(vault, acme, { 'acme plan.md': `# Plan\n\n${acmeText}\n` });
    await ingestText(vault, beta, { 'beta notes.md': `# Notes\n\n${prose('beta', 600)}\n` });
    const temp = tempDir('bulkhead-verify-temp-');
    const clean = await runIsolationCheck(vault, { appVersion: 'test', tempDir: temp });
    expect(failing(clean)).toEqual({});
    expect(clean.controls.map((c) => c.id)).toEqual(expect.arrayContaining(['cross-tenant', 'tenant-files']));

    // A paragraph of Acme's, added to Beta by the user's own hand: a leak all the same.
    const copied = acmeText.split(' ').slice(200, 260).join(' ');
    await ingestText(vault, beta, { 'forwarded.md': `# Forwarded\n\n${prose('beta-2', 200)} ${copied}\n` });
    const leaked = await runIsolationCheck(vault, { appVersion: 'test', tempDir: temp });
    expect(Object.keys(failing(leaked))).toEqual(['cross-tenant']);
    const crossFindings = failing(leaked)['cross-tenant']!;
    expect(crossFindings.length, JSON.stringify(crossFindings)).toBeGreaterThan(0);
    // Equal text in two tenants is found from both sides (which one it came from cannot be told).
    for (const f of crossFindings)
      expect(f).toMatch(
        new RegExp(
          `^tenant (${beta}: its passage \\d+ holds the name or text of tenant ${acme}|${acme}: its passage \\d+ holds the name or text of tenant ${beta})$`,
        ),
      );
    expect(crossFindings.some((f) => f.startsWith(`tenant ${beta}`))).toBe(true);
    const json = JSON.stringify(leaked);
    for (const secret of ['Acme Corp', 'Beta Labs', ...copied.split(' ').slice(0, 3)]) expect(json).not.toContain(secret);

    // A mention of the other client's name in a note is found too.
    const { addNote } = await import('../../src-main/agent/notes.js');
    const s = vault.openSession();
    const noteId = addNote(s.open(beta), { title: 'call', body: 'They said ACME corp would sign next week.' }).id;
    s.dispose();
    const named = await runIsolationCheck(vault, { appVersion: 'test', tempDir: temp });
    expect(failing(named)['cross-tenant']).toContain(`tenant ${beta}: its note ${noteId} holds the name or text of tenant ${acme}`);
    const s2 = vault.openSession();
    s2.open(beta).db.prepare('DELETE FROM notes WHERE id = ?').run(noteId);
    s2.dispose();

    // Marked as the agency's shared material, from the CLI: skipped, and the mark is in Beta's audit chain.
    const forwarded = (() => {
      const s3 = vault.openSession();
      try {
        return s3.open(beta).db.prepare("SELECT id FROM documents WHERE source_path LIKE '%forwarded.md'").pluck().get() as number;
      } finally {
        s3.dispose();
      }
    })();
    vault.lock();
    const share = spawnSync(
      process.execPath,
      [path.resolve('bin/bulkhead.js'), '--data-dir', vault.paths.dataDir, 'docs', 'share', '--tenant', 'Beta Labs', String(forwarded)],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE },
      },
    );
    expect(share.stderr).toBe('');
    expect(share.status).toBe(0);
    await vault.unlock(TEST_PASSPHRASE);
    const s4 = vault.openSession();
    expect(
      listAudit(s4.open(beta))
        .filter((a) => a.kind === 'document.shared')
        .map((a) => a.data),
    ).toEqual([{ documentId: forwarded, shared: true }]);
    s4.dispose();
    const shared = await runIsolationCheck(vault, { appVersion: 'test', tempDir: temp });
    expect(failing(shared)).toEqual({});
    vault.lock();
  });

  it("fails on a leftover staged upload, a client's name in a temp file name, and its text in a temp file (UTF-16)", async () => {
    const vault = await freshVault();
    const acme = vault.createTenant('Acme Corp').id;
    vault.createTenant('Beta Labs');
    const acmeText = prose('acme', 400);
    await ingestText(vault, acme, { 'plan.md': `# Plan\n\n${acmeText}\n` });
    const temp = tempDir('bulkhead-verify-temp-');
    expect(failing(await runIsolationCheck(vault, { appVersion: 'test', tempDir: temp }))).toEqual({});

    const left = path.join(vault.paths.dataDir, 'uploads', 'u_0123456789abcdef');
    fs.mkdirSync(left, { recursive: true });
    fs.writeFileSync(path.join(left, 'whatever.txt'), 'bytes of a killed upload');
    fs.writeFileSync(path.join(temp, 'ACME corp - draft.tmp'), 'nothing in here');
    const chunk = vault.openSession();
    const passage = chunk.open(acme).db.prepare('SELECT text FROM chunks ORDER BY id LIMIT 1').pluck().get() as string;
    chunk.dispose();
    fs.writeFileSync(path.join(temp, 'cache.bin'), Buffer.concat([Buffer.alloc(5000), Buffer.from(passage, 'utf16le')]));
    const r = await runIsolationCheck(vault, { appVersion: 'test', tempDir: temp });
    expect(failing(r)['tenant-files']!.sort()).toEqual(
      [
        'uploads/u_0123456789abcdef: a staged upload left behind by a process that is gone',
        `temp:ACME corp - draft.tmp: its name holds the name or text of tenant ${acme}`,
        `temp:cache.bin: its content holds the name or text of tenant ${acme}`,
      ].sort(),
    );
    vault.lock();
  });
});
