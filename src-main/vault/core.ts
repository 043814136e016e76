import type { AppLog } from '../log/logger.js';
import type { Keyring } from './keyring.js';
import type { VaultPaths } from './paths.js';
import type { Registry, TenantRecord } from './registry.js';

/** What the vault's lifecycle operations (rekey, export, import, backup) may use of an unlocked vault. */
export interface VaultCore {
  readonly paths: VaultPaths;
  readonly keyring: Keyring;
  readonly registry: Registry;
  readonly log: AppLog;
  record(id: string): TenantRecord;
  /** Closes this tenant in every session of this vault, so its file can be rewritten. */
  closeTenant(id: string): void;
  /** Appends one audit record through a private session (which records its own 'tenant.open'). */
  audit(id: string, kind: 'export' | 'import' | 'key.rotate', data: Readonly<Record<string, string | number | boolean | null>>): void;
}

export function tenantLabel(rec: Pick<TenantRecord, 'id' | 'name'>): string {
  return `tenant "${rec.name}" (${rec.id})`;
}
