import { describe, expect, it } from 'vitest';
import { linesOf, runAndKill } from '../helpers/kill.js';
import { freshVault, TEST_PASSPHRASE } from '../helpers/vault.js';

const TRIALS = 20;
const BATCH_ROWS = 20_000;

interface Trial {
  lastLine: string;
  committed: string[];
  /** The batch in flight when the kill landed: it may have committed before its line was written. */
  inFlight: string | null;
}

/** Starts the writer, waits until it is inside a transaction, lets it run a random while, SIGKILLs it. */
async function killMidWrite(dataDir: string, tenantId: string): Promise<Trial> {
  const run = await runAndKill('test/helpers/child-writer.ts', [dataDir, tenantId, String(BATCH_ROWS)], {
    armOn: 'begin ',
    delayMs: () => 30 + Math.floor(Math.random() * 700),
  });
  if (!run.killed) throw new Error(`writer exited by itself (${run.code}): ${run.stderr}`);
  const lines = linesOf(run);
  const lastLine = lines.at(-1) ?? '';
  return {
    lastLine,
    committed: lines.filter((l) => l.startsWith('commit ')).map((l) => l.slice(7)),
    inFlight: lastLine.startsWith('begin ') ? lastLine.slice(6) : null,
  };
}

describe('a process killed in the middle of a large write transaction', () => {
  it(`leaves a tenant that opens, passes integrity_check and holds no partial batch (${TRIALS} kills)`, async () => {
    const vault = await freshVault();
    const { id } = vault.createTenant('Acme');
    const other = vault.createTenant('Globex');
    vault.lock();
    let killedInsideTransaction = 0;
    const reported = new Set<string>();
    const mayExist = new Set<string>();
    for (let trial = 0; trial < TRIALS; trial++) {
      const result = await killMidWrite(vault.paths.dataDir, id);
      if (result.lastLine.startsWith('begin ')) killedInsideTransaction++;
      for (const c of result.committed) reported.add(c);
      if (result.inFlight) mayExist.add(result.inFlight);

      await vault.unlock(TEST_PASSPHRASE);
      const tenant = vault.openSession().open(id);
      expect(tenant.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const batches = tenant.db.prepare('SELECT title, count(*) AS n FROM notes GROUP BY title').all() as { title: string; n: number }[];
      for (const b of batches) expect(b, 'a batch is all or nothing').toEqual({ title: b.title, n: BATCH_ROWS });
      // Every transaction the writer saw committed survived the kill (synchronous=FULL), and
      // nothing else is there but, possibly, the one in flight when it died.
      const present = new Set(batches.map((b) => b.title));
      for (const c of reported) expect(present.has(c), `committed batch ${c} survived`).toBe(true);
      for (const p of present) expect(reported.has(p) || mayExist.has(p), `batch ${p} was written by the writer`).toBe(true);
      expect(vault.openSession().open(other.id).db.prepare('SELECT count(*) FROM notes').pluck().get()).toBe(0);
      vault.lock();
    }
    // The kill must really land inside transactions, or this test proves nothing.
    expect(killedInsideTransaction).toBeGreaterThanOrEqual(TRIALS * 0.75);
  });
});
