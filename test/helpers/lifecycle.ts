import fs from 'node:fs';
import path from 'node:path';
import { addNote } from '../../src-main/agent/notes.js';
import { appendAudit } from '../../src-main/vault/audit-chain.js';
import { createEmbedder } from '../../src-main/embed/index.js';
import { ingestPaths } from '../../src-main/ingest/pipeline.js';
import { readEmbedderConfig } from '../../src-main/embed/settings.js';
import { searchKnowledge } from '../../src-main/retrieval/knowledge.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import type { Vault } from '../../src-main/vault/vault.js';
import { tempDir } from './vault.js';

type Db = TenantHandle['db'];

/** Documents (chunks, vectors, full-text rows), notes, a search and audit records, with a canary. */
export async function populateTenant(vault: Vault, id: string, canary: string, docs = 4): Promise<void> {
  const session = vault.openSession();
  try {
    const t = session.open(id);
    const folder = tempDir('bulkhead-docs-');
    for (let i = 0; i < docs; i++) {
      fs.writeFileSync(path.join(folder, `doc-${i}.md`), `# Report ${i}\n\n${canary} paragraph ${i}. ${'Supply chains, invoices and audits. '.repeat(40)}\n`);
    }
    await ingestPaths(t, [folder], { embedder: createEmbedder(t, readEmbedderConfig(t)) });
    addNote(t, { title: `note about ${canary}`, body: `${canary} kickoff budget` });
    await searchKnowledge(t, canary);
    appendAudit(t, 'note.save', { noteId: 1 });
  } finally {
    session.dispose();
  }
}

/** Every ordinary table's rows in a fixed order: "identical" made checkable, independently of the product. */
export function dumpTables(db: Db): Record<string, unknown[][]> {
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")
    .pluck()
    .all() as string[];
  const out: Record<string, unknown[][]> = {};
  for (const t of tables) {
    const width = db.prepare(`SELECT * FROM "${t}" LIMIT 0`).columns().length;
    const order = Array.from({ length: width }, (_, i) => i + 1).join(',');
    out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY ${order}`).raw().all() as unknown[][];
  }
  return out;
}

/** A tenant's tables, read through a private session that is closed again. */
export function tenantTables(vault: Vault, id: string): Record<string, unknown[][]> {
  const session = vault.openSession();
  try {
    return dumpTables(session.open(id).db);
  } finally {
    session.dispose();
  }
}

/** Tables compared as of a snapshot: the audit chain may only have grown at its end since. */
export function expectSameContent(
  before: Record<string, unknown[][]>,
  after: Record<string, unknown[][]>,
  expect: (v: unknown, m?: string) => { toEqual(x: unknown): void },
): void {
  expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
  for (const [table, rows] of Object.entries(before)) {
    const other = after[table]!;
    if (table === 'audit_log') expect(other.slice(0, rows.length), table).toEqual(rows);
    else expect(other, table).toEqual(rows);
  }
}
