// Run by the tuning kill test in its own process: learns the tenant's term space and re-embeds it
// (retrieval/term-space-job.ts), saying on stdout when it starts, so the parent can kill it anywhere
// in the learning, the model's write, the re-embed or the switch.
import { tuneOfflineEmbedder } from '../../src-main/retrieval/term-space-job.js';
import { Vault } from '../../src-main/vault/vault.js';

const [dataDir, tenantId] = process.argv.slice(2);
const vault = new Vault(dataDir!);
await vault.unlock(process.env.BULKHEAD_PASSPHRASE!);
const tenant = vault.openSession().open(tenantId!);
process.stdout.write('tuning\n');
const outcome = await tuneOfflineEmbedder(tenant, { force: true });
process.stdout.write(`done ${outcome.kind}\n`);
vault.lock();
