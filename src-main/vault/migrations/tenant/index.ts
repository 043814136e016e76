import type { Migration } from '../migrate.js';
import { m0001Notes } from './0001-notes.js';

export const tenantMigrations: readonly Migration[] = [m0001Notes];
