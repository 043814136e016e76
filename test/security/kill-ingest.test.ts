import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { activeVectorIndex, generationTables } from '../../src-main/index/vectors.js';
import { runAndKill } from '../helpers/kill.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const TRIALS = 8;

async function ingestAndKill(dataDir: string, tenantId: string, folder: string): Promise<{ killedMidway: boolean }> {
  const run = await runAndKill('test/helpers/child-ingester.ts', [dataDir, tenantId, folder], {
    armOn: 'stored',
    delayMs: () => Math.floor(Math.random() * 400),
  });
  if (!run.killed && !run.stdout.includes('finished')) throw new Error(`ingester failed (${run.code}): ${run.stderr}`);
  return { killedMidway: !run.stdout.includes('finished') };
}

describe('a process killed in the middle of an ingestion', () => {
  it(`leaves only whole documents: every chunk with its vector, code and full-text row (${TRIALS} kills)`, async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    vault.lock();
    const folder = tempDir();
    for (let i = 0; i < 400; i++) {
      fs.writeFileSync(
        path.join(folder, `doc-${String(i).padStart(3, '0')}.md`),
        `# Report ${i}\n\n${`Paragraph ${i} about supply chains and invoices. `.repeat(120)}\n`,
      );
    }
    let midway = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      if ((await ingestAndKill(vault.paths.dataDir, id, folder)).killedMidway) midway++;
      await vault.unlock(TEST_PASSPHRASE);
      const t = vault.openSession().open(id);
      expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const count = (sql: string): number => Number(t.db.prepare(sql).pluck().get());
      const chunks = count('SELECT count(*) FROM chunks');
      expect(count('SELECT coalesce(sum(chunk_count), 0) FROM documents')).toBe(chunks);
      expect(count('SELECT count(*) FROM documents d WHERE chunk_count <> (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)')).toBe(0);
      expect(count('SELECT count(*) FROM chunks_fts')).toBe(chunks);
      const index = activeVectorIndex(t);
      if (index) {
        for (const table of generationTables(index)) expect(count(`SELECT count(*) FROM ${table}`)).toBe(chunks);
      }
      vault.lock();
    }
    expect(midway).toBeGreaterThanOrEqual(TRIALS - 1);
  });
});
