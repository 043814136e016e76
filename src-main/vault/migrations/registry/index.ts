import type { Migration } from '../migrate.js';
import { m0001Tenants } from './0001-tenants.js';

export const registryMigrations: readonly Migration[] = [m0001Tenants];
