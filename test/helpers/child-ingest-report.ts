// Run by the fault tests in a process of its own (for a file-size limit, or beside another
// writer): pours a folder into a tenant and prints the summary as one JSON line on stdout.
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { Vault } from '../../src-main/vault/vault.js';

// With a file-size limit (ulimit -f), a write past it must fail with EFBIG, not kill the process.
process.on('SIGXFSZ', () => {});
const [dataDir, tenantId, folder] = process.argv.slice(2);
const vault = new Vault(dataDir!);
await vault.unlock(process.env.BULKHEAD_PASSPHRASE!);
const tenant = vault.openSession().open(tenantId!);
const summary = await ingestPaths(tenant, [folder!], { embedder: new HashedEmbedder() });
const failures = summary.files.filter((f) => f.status === 'failed').map((f) => ({ code: f.code, reason: f.reason }));
process.stdout.write(`${JSON.stringify({ added: summary.added, failed: summary.failed, failures })}\n`);
vault.lock();
