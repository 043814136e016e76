// Run by the lifecycle kill tests in its own process: repeats one lifecycle operation forever,
// announcing each start and end on stdout (synchronous on a pipe), until the parent kills it.
import path from 'node:path';
import { Vault } from '../../src-main/vault/vault.js';
import { TEST_KDF } from './vault.js';

export const CHILD_EXPORT_PASSPHRASE = 'kill test export passphrase';

const [op, dataDir, tenantId, target] = process.argv.slice(2) as [string, string, string, string];
const vault = new Vault(dataDir);
await vault.unlock(process.env.BULKHEAD_PASSPHRASE!);
for (let i = 0; ; i++) {
  process.stdout.write(`start ${i}\n`);
  if (op === 'export') await vault.exportTenant(tenantId, path.join(target, `bundle-${i}`), CHILD_EXPORT_PASSPHRASE, { kdf: TEST_KDF });
  else if (op === 'import') await vault.importTenant(target, CHILD_EXPORT_PASSPHRASE, { rename: `Copy ${process.pid}-${i}` });
  else if (op === 'rekey') vault.rekeyTenant(tenantId);
  else if (op === 'backup') await vault.backup(path.join(target, `backup-${i}`));
  else throw new Error(`unknown operation ${op}`);
  process.stdout.write(`done ${i}\n`);
}
