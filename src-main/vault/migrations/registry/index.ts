import type { Migration } from '../migrate.js';
import { m0001Tenants } from './0001-tenants.js';
import { m0002AuditHeads } from './0002-audit-heads.js';
import { m0003VaultAudit } from './0003-vault-audit.js';

export const registryMigrations: readonly Migration[] = [m0001Tenants, m0002AuditHeads, m0003VaultAudit];
