// Run by the ingest kill test in its own process: pours a folder into a tenant, announcing each
// stored document on stdout, until the parent kills it.
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { Vault } from '../../src-main/vault/vault.js';

const [dataDir, tenantId, folder] = process.argv.slice(2);
const vault = new Vault(dataDir!);
await vault.unlock(process.env.BULKHEAD_PASSPHRASE!);
const tenant = vault.openSession().open(tenantId!);
process.stdout.write('start\n');
await ingestPaths(tenant, [folder!], {
  embedder: new HashedEmbedder(),
  onEvent: (e) => {
    if (e.type === 'file-done') process.stdout.write(`stored ${e.result.status}\n`);
  },
});
process.stdout.write('finished\n');
