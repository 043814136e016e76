import type { Migration } from '../migrate.js';
import { m0001Notes } from './0001-notes.js';
import { m0002Knowledge } from './0002-knowledge.js';
import { m0004Agent } from './0004-agent.js';

// 0003 is reserved for the audit chain (lifecycle work).
export const tenantMigrations: readonly Migration[] = [m0001Notes, m0002Knowledge, m0004Agent];
