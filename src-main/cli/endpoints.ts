import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { confirmStoredEndpoints, ENDPOINT_SLOTS, reviewStoredEndpoints, storedEndpoints, type HeldEndpoint, type StoredSlot } from '../agent/endpoints.js';
import { prefillNewTenant } from '../agent/tenant-model.js';
import type { Vault } from '../vault/vault.js';
import { openTenant, wrap } from './context.js';

/**
 * After an import: the new tenant is owed no copy of the former vault-wide model settings, and the
 * endpoints its bundle brought are held (it is opened in a private session for that).
 */
export async function holdImportedEndpoints(vault: Vault, tenantId: string): Promise<HeldEndpoint[]> {
  const session = vault.openSession();
  try {
    const tenant = session.open(tenantId);
    prefillNewTenant(vault, tenant, { imported: true });
    return await reviewStoredEndpoints(tenant, { imported: true });
  } finally {
    session.dispose();
  }
}

function heldText(held: readonly HeldEndpoint[]): string {
  if (held.length === 0) return 'No endpoint is on hold.';
  return held
    .map(
      (h) =>
        `${h.slot.padEnd(9)} ${h.url}  on hold since ${h.since} (${h.reason === 'imported' ? 'came with an imported bundle' : 'broke "local models only"'})`,
    )
    .join('\n');
}

function slotOf(value: string | undefined): StoredSlot | undefined {
  if (value === undefined) return undefined;
  if (!(ENDPOINT_SLOTS as readonly string[]).includes(value)) throw new BulkheadError('INPUT_INVALID', `--slot is one of ${ENDPOINT_SLOTS.join(', ')}`);
  return value as StoredSlot;
}

export function registerEndpointCommands(program: Command): void {
  const ep = program.command('endpoints').description("a tenant's stored endpoints (embedder, chat model) and the ones on hold");
  ep.command('show', { isDefault: true })
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const tenant = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const held = await reviewStoredEndpoints(tenant);
        const stored = Object.fromEntries(storedEndpoints(tenant));
        const lines = [...Object.entries(stored).map(([slot, url]) => `${slot.padEnd(9)} ${url}`), '', heldText(held)];
        return { json: { stored, held }, text: lines.join('\n').trimStart() };
      }),
    );
  ep.command('confirm')
    .description('let the held endpoints be used again (refused while "local models only" forbids them)')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--slot <slot>', ENDPOINT_SLOTS.join(' | '))
    .action(
      wrap(async (vault, opts) => {
        const o = opts as { tenant?: string; slot?: string };
        const tenant = await openTenant(vault, o.tenant);
        const r = await confirmStoredEndpoints(tenant, slotOf(o.slot));
        return {
          json: r,
          text: `${r.confirmed.length === 0 ? 'Nothing was on hold.' : `Confirmed: ${r.confirmed.map((h) => `${h.slot} ${h.url}`).join(', ')}`}\n${heldText(r.held)}`,
        };
      }),
    );
}
