import type { Migration } from '../migrate.js';
import { m0001Tenants } from './0001-tenants.js';
import { m0002AuditHeads } from './0002-audit-heads.js';

export const registryMigrations: readonly Migration[] = [m0001Tenants, m0002AuditHeads];
