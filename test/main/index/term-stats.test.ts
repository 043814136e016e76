import { afterEach, describe, expect, it } from 'vitest';
import { deleteDocument } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { porterStem } from '../../../src-main/text/porter.js';
import { addTermStats, termStats } from '../../../src-main/index/term-stats.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { Vault } from '../../../src-main/vault/vault.js';
import { closeTenants, storeChunks, tenantWithChunks } from '../../helpers/retrieval.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

afterEach(closeTenants);

const embedder = new HashedEmbedder({ dimension: 16 });
const [harbour, zeppelin, lantern] = ['harbour', 'zeppelin', 'lantern'].map(porterStem) as [string, string, string];

/** What term_stats holds now, read directly. */
function stored(tenant: TenantHandle, stem: string): number {
  return Number(tenant.db.prepare('SELECT df FROM term_stats WHERE term = ?').pluck().get(stem) ?? 0);
}

describe('termStats, kept per open tenant', () => {
  it('sees writes through this connection at once, deletes too, and not what a transaction rolled back', async () => {
    const { tenant, documents } = await tenantWithChunks(embedder, ['alpha harbour', 'beta harbour']);
    const before = termStats(tenant, [harbour, zeppelin]);
    expect([before.total, before.df(harbour), before.df(zeppelin)]).toEqual([2, 2, 0]);

    await storeChunks(tenant, embedder, [{ documentKey: 'late', ordinal: 0, text: 'zeppelin over the harbour' }]);
    const after = termStats(tenant, [harbour, zeppelin]);
    expect([after.total, after.df(harbour), after.df(zeppelin)]).toEqual([3, 3, 1]);

    expect(() =>
      tenant.db.transaction(() => {
        addTermStats(tenant, ['zeppelin lantern']);
        // Inside the transaction: its own uncommitted counts, read and not kept.
        expect(termStats(tenant, [zeppelin, lantern]).df(lantern)).toBe(1);
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    const rolledBack = termStats(tenant, [zeppelin, lantern]);
    expect([rolledBack.total, rolledBack.df(zeppelin), rolledBack.df(lantern)]).toEqual([3, 1, 0]);

    deleteDocument(tenant, documents.get('doc-1')!);
    const deleted = termStats(tenant, [harbour, zeppelin]);
    expect([deleted.total, deleted.df(harbour)]).toEqual([2, stored(tenant, harbour)]);
    expect(deleted.df(harbour)).toBe(2);
  });

  it('sees what another connection committed (another process, the CLI beside the app)', async () => {
    const dir = tempDir('bulkhead-term-stats-');
    const first = await freshVault(dir);
    const { id } = first.createTenant('Shared file');
    const mine = first.openSession().open(id);
    await storeChunks(mine, embedder, ['harbour lantern']);
    expect(termStats(mine, [zeppelin, lantern]).df(zeppelin)).toBe(0);

    const second = new Vault(dir);
    await second.unlock(TEST_PASSPHRASE);
    const theirs = second.openSession().open(id);
    await storeChunks(theirs, embedder, [{ documentKey: 'theirs', ordinal: 0, text: 'zeppelin lantern' }]);
    second.lock();

    const now = termStats(mine, [zeppelin, lantern]);
    expect([now.total, now.df(zeppelin), now.df(lantern)]).toEqual([2, 1, 2]);
    first.lock();
  });

  it('answers every mix of kept and new stems as a direct read does', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${i}`);
    const { tenant } = await tenantWithChunks(
      embedder,
      Array.from({ length: 30 }, (_, i) => words.filter((_, w) => (w * 7 + i) % 3 === 0).join(' ')),
    );
    const stems = words.map(porterStem);
    for (const slice of [stems.slice(0, 10), stems.slice(5, 30), stems, ['absent', ...stems.slice(35)]]) {
      const stats = termStats(tenant, slice);
      expect(stats.total).toBe(30);
      for (const stem of slice) expect(stats.df(stem)).toBe(stored(tenant, stem));
    }
  });
});
