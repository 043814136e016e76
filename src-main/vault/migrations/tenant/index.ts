import type { Migration } from '../migrate.js';
import { m0001Notes } from './0001-notes.js';
import { m0002Knowledge } from './0002-knowledge.js';
import { m0003Audit } from './0003-audit.js';
import { m0004Agent } from './0004-agent.js';
import { m0005PlainVectorTables } from './0005-plain-vector-tables.js';
import { m0006TermIndex } from './0006-term-index.js';
import { m0007TermSpaces } from './0007-term-spaces.js';

export const tenantMigrations: readonly Migration[] = [
  m0001Notes,
  m0002Knowledge,
  m0003Audit,
  m0004Agent,
  m0005PlainVectorTables,
  m0006TermIndex,
  m0007TermSpaces,
];
