// A bundle is a client's file from elsewhere. Settings that name places on the machine it was made
// on are not the client's to bring: a watched-folder list in a bundle would have this machine read
// whatever folder it names (another client's, the agency's own) into the imported tenant as soon
// as it opens in the console. Such settings are dropped on import; the user adds folders again.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { addWatchedFolder, syncWatchedFolders, watchedFolders } from '../../../src-main/ingest/watch.js';
import { addConnector, listConnectors } from '../../../src-main/connectors/store.js';
import { listDocuments } from '../../../src-main/ingest/documents.js';
import { stdioConnector } from '../../helpers/connectors.js';
import { freshVault, TEST_KDF, tempDir } from '../../helpers/vault.js';

const EXPORT_PASS = 'export passphrase for the client';

describe('an imported tenant brings no settings that name places on another machine', () => {
  it("a bundle's watched folders are dropped: opening the imported tenant reads no folder into it", async () => {
    // On the bundle author's machine: a tenant watching a folder (here standing for a path the
    // author guessed on the victim's machine, e.g. another client's folder).
    const elsewhere = tempDir('bulkhead-other-client-');
    fs.writeFileSync(path.join(elsewhere, 'plan.md'), '# Other client plan\n\nThe merger closes in March. OTHERCLIENTCANARY');
    const author = await freshVault();
    const { id } = author.createTenant('Acme Corp');
    const a = author.openSession().open(id);
    expect(addWatchedFolder(a, elsewhere)).toHaveLength(1);
    const bundle = path.join(tempDir(), 'acme.bulkhead-export');
    await author.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
    author.lock();

    const target = await freshVault();
    const r = await target.importTenant(bundle, EXPORT_PASS);
    expect(r.droppedSettings).toEqual(['watch.folders']);
    const t = target.openSession().open(r.tenantId);
    expect(watchedFolders(t)).toEqual([]);
    // What the console's watch job does when the tenant opens: sync every watched folder.
    const summary = await syncWatchedFolders(t, { embedder: new HashedEmbedder() });
    expect(summary.added).toBe(0);
    expect(JSON.stringify(listDocuments(t, { offset: 0, limit: 50 }))).not.toContain('plan.md');
    target.lock();
  });

  it("a bundle's tool connectors (a command, the paths it may read, the network, secrets) are dropped and said so", async () => {
    const author = await freshVault();
    const { id } = author.createTenant('Acme Corp');
    const a = author.openSession().open(id);
    addConnector(a, stdioConnector('crm', 'benign.mjs', { CONNECTOR_TOKEN: 'AUTHORSECRET' }, { network: true }));
    expect(listConnectors(a)).toHaveLength(1);
    const bundle = path.join(tempDir(), 'acme.bulkhead-export');
    await author.exportTenant(id, bundle, EXPORT_PASS, { kdf: TEST_KDF });
    author.lock();

    const target = await freshVault();
    const r = await target.importTenant(bundle, EXPORT_PASS);
    expect(r.droppedSettings).toEqual(['connectors.list']);
    const t = target.openSession().open(r.tenantId);
    expect(listConnectors(t)).toEqual([]);
    // Nothing else of the tenant was left out.
    expect(JSON.stringify(t.db.prepare('SELECT key FROM tenant_meta ORDER BY key').pluck().all())).not.toMatch(/connectors|watch/);
    target.lock();
  });
});
