import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { listAudit, verifyAudit, type AuditRecord } from '../vault/audit-chain.js';
import { restoreBackup } from '../vault/backup.js';
import { holdImportedEndpoints } from './endpoints.js';
import type { Vault } from '../vault/vault.js';
import { openTenant, unlock, wrap } from './context.js';
import { ANY_COUNT, existingFile, existingFolder, pathToCreate, wholeNumber } from './options.js';
import { readSecret } from './passphrase.js';

const EXPORT_PASSPHRASE_ENV = 'BULKHEAD_EXPORT_PASSPHRASE';
const NEW_PASSPHRASE_ENV = 'BULKHEAD_NEW_PASSPHRASE';

function auditLine(r: AuditRecord): string {
  const data = Object.entries(r.data)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${String(r.seq).padStart(6)}  ${r.at}  ${r.kind.padEnd(19)} ${data}`;
}

async function verifyVaultChain(vault: Vault): Promise<{ json: unknown; text: string }> {
  await unlock(vault);
  const v = vault.verifyVaultAudit();
  if (!v.ok)
    throw new BulkheadError('AUDIT_BROKEN', `the vault audit chain is broken at record ${v.firstBadSeq}: ${v.reason} (${v.count} records verified before it)`);
  return { json: v, text: `The vault audit chain verifies: ${v.count} records` };
}

/** audit, export, import, tenant rekey, passphrase change, backup, restore. */
export function registerLifecycleCommands(program: Command, tenant: Command): void {
  const audit = program.command('audit').description("check and list a tenant's tamper-evident audit trail");
  audit
    .command('verify')
    .description('check every record of the chain and its head; exit 5 naming the first bad record')
    .option('--tenant <tenant>', 'tenant name or id')
    .option('--vault', "the vault's own chain (unlocks, presentation, vault-wide operations) instead of a tenant's")
    .action(
      wrap(async (vault, opts) => {
        const o = opts as { tenant?: string; vault?: boolean };
        if (o.vault) return verifyVaultChain(vault);
        if (!o.tenant) throw new BulkheadError('INPUT_INVALID', 'name a tenant with --tenant, or check the vault chain with --vault');
        const t = await openTenant(vault, o.tenant);
        const v = verifyAudit(t);
        if (!v.ok) {
          throw new BulkheadError(
            'AUDIT_BROKEN',
            `the audit trail of tenant "${t.name}" is broken at record ${v.firstBadSeq}: ${v.reason} (${v.count} records verified before it)`,
          );
        }
        return { json: { tenantId: t.id, ...v }, text: `Audit trail of "${t.name}" verifies: ${v.count} records, head ${v.head ?? '(empty)'}` };
      }),
    );
  audit
    .command('list')
    .description('list audit records (ids, hashes and counts; never text)')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--after <seq>', 'only records after this sequence number', wholeNumber('--after', ANY_COUNT), 0)
    .option('--limit <n>', 'at most this many (1-100000)', wholeNumber('--limit', { min: 1, max: 100_000 }), 1000)
    .action(
      wrap(async (vault, opts) => {
        const o = opts as { tenant?: string; after: number; limit: number };
        const t = await openTenant(vault, o.tenant);
        const records = listAudit(t, { afterSeq: o.after, limit: o.limit });
        return { json: records, text: records.length === 0 ? 'No audit records.' : records.map(auditLine).join('\n') };
      }),
    );

  program
    .command('export')
    .description(`write one encrypted bundle of a tenant (export passphrase from ${EXPORT_PASSPHRASE_ENV} or a prompt)`)
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .requiredOption('--out <file>', 'bundle file to create (must not exist)', pathToCreate('--out', 'file'))
    .action(
      wrap(async (vault, opts) => {
        const o = opts as { tenant?: string; out: string };
        await unlock(vault);
        const t = vault.findTenant(o.tenant ?? '');
        const pass = await readSecret({ env: EXPORT_PASSPHRASE_ENV, message: 'Export passphrase', confirm: true });
        const r = await vault.exportTenant(t.id, o.out, pass);
        return {
          json: r,
          text: `Exported "${t.name}" to ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.tables} tables, audit head ${r.auditHead?.seq ?? 0})`,
        };
      }),
    );

  program
    .command('import')
    .description(`bring a tenant in from an export bundle (export passphrase from ${EXPORT_PASSPHRASE_ENV} or a prompt)`)
    .argument('<file>', 'bundle written by `bulkhead export`', existingFile('import'))
    .option('--rename <name>', 'import under this name (when the name is taken here)')
    .action(
      wrap(async (vault, opts, file) => {
        const o = opts as { rename?: string };
        await unlock(vault);
        const pass = await readSecret({ env: EXPORT_PASSPHRASE_ENV, message: 'Export passphrase', confirm: false });
        const r = await vault.importTenant(file!, pass, o.rename ? { rename: o.rename } : {});
        // The bundle's author chose its endpoints: each that is not loopback is held until confirmed.
        const held = await holdImportedEndpoints(vault, r.tenantId);
        const heldNote = held.length > 0 ? `\n${held.length} endpoint(s) on hold until you confirm them: bulkhead endpoints show --tenant ${r.tenantId}` : '';
        const droppedNote =
          r.droppedSettings.length > 0
            ? `\nLeft out (they name folders, programs or secrets of the machine the bundle was made on; add them again here): ${r.droppedSettings.join(', ')}`
            : '';
        const note = heldNote + droppedNote;
        return {
          json: { ...r, heldEndpoints: held },
          text: `Imported "${r.name}" (${r.tenantId}${r.newId ? ', a new id: its old one is taken here' : ''})${note}`,
        };
      }),
    );

  tenant
    .command('rekey')
    .argument('<tenant>', 'name or id')
    .description('re-encrypt a tenant under a new data key (close it elsewhere first)')
    .action(
      wrap(async (vault, _o, ref) => {
        await unlock(vault);
        const t = vault.findTenant(ref!);
        const r = vault.rekeyTenant(t.id);
        return { json: r, text: `Re-encrypted "${t.name}" under a new data key (key version ${r.fromVersion} -> ${r.toVersion})` };
      }),
    );

  program
    .command('passphrase')
    .description('manage the vault passphrase')
    .command('change')
    .description(`re-wrap the keys under a new passphrase (from ${NEW_PASSPHRASE_ENV} or a prompt); tenant files are not rewritten`)
    .action(
      wrap(async (vault) => {
        await unlock(vault);
        const next = await readSecret({ env: NEW_PASSPHRASE_ENV, message: 'New vault passphrase', confirm: true });
        await vault.changePassphrase(next);
        return { json: { changed: true }, text: 'Changed the vault passphrase (the keyring was re-wrapped; no tenant file changed)' };
      }),
    );

  program
    .command('backup')
    .description('snapshot every tenant, the registry and the keyring into a new folder, while in use')
    .requiredOption('--out <dir>', 'folder to create (must not exist or be empty)', pathToCreate('--out', 'folder'))
    .action(
      wrap(async (vault, opts) => {
        await unlock(vault);
        const r = await vault.backup((opts as { out: string }).out);
        const text = `Backed up ${r.tenants} tenants (${r.files} files) to ${r.dir}`;
        if (r.damaged.length > 0) {
          // The others are in the backup; the damaged ones are copied as they are and named.
          const names = r.damaged.map((d) => `"${vault.getTenant(d.tenantId).name}" (${d.tenantId})`);
          process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : `${text}\n${names.map((n) => `DAMAGED ${n}: copied as it is`).join('\n')}\n`);
          throw new BulkheadError('TENANT_CORRUPT', `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} damaged; the other tenants were backed up`);
        }
        return { json: r, text };
      }),
    );

  program
    .command('restore')
    .argument('<dir>', 'a folder written by `bulkhead backup`', existingFolder('restore'))
    .option('--force', 'if the data folder holds a vault, move it aside (never deleted) and restore anyway')
    .description('restore a backup as the data folder')
    .action(
      wrap(async (vault, opts, dir) => {
        const r = await restoreBackup(dir!, vault.paths.dataDir, { force: Boolean((opts as { force?: boolean }).force), log: vault.log });
        const aside = r.movedAside ? `\nThe vault that was there is now in ${r.movedAside}` : '';
        return { json: r, text: `Restored ${r.tenants} tenants into ${r.dataDir}${aside}` };
      }),
    );
}
