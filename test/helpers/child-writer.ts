// Run by the kill test in its own process: writes batches of notes, one transaction each,
// announcing each transaction on stdout (synchronous on a pipe) so the parent knows where it struck.
import { Vault } from '../../src-main/vault/vault.js';

const [dataDir, tenantId, batchRowsArg] = process.argv.slice(2);
const batchRows = Number(batchRowsArg);
const vault = new Vault(dataDir!);
await vault.unlock(process.env.BULKHEAD_PASSPHRASE!);
const tenant = vault.openSession().open(tenantId!);
const insert = tenant.db.prepare('INSERT INTO notes (title, body, created_at) VALUES (?, ?, ?)');
const body = 'lorem ipsum dolor sit amet '.repeat(8);
for (let batch = 0; ; batch++) {
  const title = `batch-${process.pid}-${batch}`;
  process.stdout.write(`begin ${title}\n`);
  tenant.db.transaction(() => {
    for (let i = 0; i < batchRows; i++) insert.run(title, body, String(i));
  })();
  process.stdout.write(`commit ${title}\n`);
}
