import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantSummary } from '../../src-shared/tenant.js';
import type { DeletionReceipt, Vault } from '../vault/vault.js';

/** What a window must be for the authority: unlocked by itself, and not presenting. */
export interface AuthorityHolder {
  readonly vault: Vault;
  readonly unlocked: boolean;
  readonly presenting: boolean;
}

/**
 * The right to reach beyond the open tenant: create, rename, delete tenants, vault settings, the
 * keychain, verify, backup. Its constructor is private and `grantAuthority` is the only way to
 * get one: it refuses a window that is locked or presenting, so a presentation session can never
 * hold (or express) these operations. Every use is recorded in the vault's audit chain.
 */
export class VaultAuthority {
  readonly #vault: Vault;

  private constructor(vault: Vault) {
    this.#vault = vault;
  }

  /** @internal grantAuthority's door; not exported from this module's surface by name. */
  static grant(holder: AuthorityHolder): VaultAuthority {
    if (!holder.unlocked) throw new BulkheadError('LOCKED', 'the vault is locked');
    if (holder.presenting) throw new BulkheadError('PRESENTATION_MODE', 'presentation mode: enter the passphrase first');
    return new VaultAuthority(holder.vault);
  }

  /** The vault, for an operation that reaches beyond the open tenant; the use is recorded. */
  use(op: string, tenant: string | null = null): Vault {
    this.#vault.recordVaultEvent('authority', { op, tenant });
    return this.#vault;
  }

  createTenant(name: string): TenantSummary {
    return this.#vault.createTenant(name);
  }

  renameTenant(id: string, name: string): TenantSummary {
    return this.#vault.renameTenant(id, name);
  }

  deleteTenant(id: string): DeletionReceipt {
    return this.#vault.deleteTenant(id);
  }
}

export function grantAuthority(holder: AuthorityHolder): VaultAuthority {
  return VaultAuthority.grant(holder);
}
