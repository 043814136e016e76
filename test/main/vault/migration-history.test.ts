// A tenant written at every historical schema version (tenant migrations 1..k only, with the data
// the app of that version stored, in its tables) is brought to the newest schema by the normal
// migration run: its data survives, and its searches rank exactly as a tenant written at the
// newest version with the same chunks.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { ftsIndexText } from '../../../src-main/index/fts.js';
import { quantizeInt8 } from '../../../src-main/index/quantize.js';
import { simhash } from '../../../src-main/index/simhash.js';
import { mergePendingTerms } from '../../../src-main/index/term-index.js';
import { contentWords } from '../../../src-main/index/term-stats.js';
import { hybridRank, type HybridRanking } from '../../../src-main/retrieval/search.js';
import { stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import { closeTenantHandle, mintTenantHandle, type AuditBinding, type TenantHandle } from '../../../src-main/vault/handle.js';
import { migrate } from '../../../src-main/vault/migrations/migrate.js';
import { tenantMigrations } from '../../../src-main/vault/migrations/tenant/index.js';
import { createOwnerOnlyFile } from '../../../src-main/vault/paths.js';
import { openEncryptedDatabase, type Db } from '../../../src-main/vault/sqlite.js';
import { porterStem } from '../../../src-main/text/porter.js';
import { closeTenants, openFreshTenant, storeChunks } from '../../helpers/retrieval.js';
import { tempDir } from '../../helpers/vault.js';

afterEach(closeTenants);
afterAll(stopBackgroundReader);

const embedder = new HashedEmbedder({ dimension: 64 });
const TEXTS = Array.from(
  { length: 160 },
  (_, i) => `Memo ${i}: the harbour ${i % 7} crane, the ferry ${i % 11} timetable and the pier ${i % 13} lights; tide table ${i % 5}.`,
);
const QUERIES = ['harbour 3 crane', 'ferry timetable 9', 'pier 12 lights tide', 'memo 77'];
const LATEST = tenantMigrations.at(-1)!.version;

const opened: { handle: TenantHandle; dir: string }[] = [];
afterEach(() => {
  for (const { handle, dir } of opened.splice(0)) {
    closeTenantHandle(handle);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A tenant file at schema `version`: migrations 1..version, then the rows the app then wrote. */
async function tenantAt(version: number): Promise<{ db: Db; dir: string }> {
  const dir = tempDir('bulkhead-migration-history-');
  const file = path.join(dir, 'tenant.bulkhead');
  createOwnerOnlyFile(file);
  const db = openEncryptedDatabase(file, crypto.randomBytes(32), { mustExist: false, label: `tenant at schema ${version}` });
  migrate(
    db,
    tenantMigrations.filter((m) => m.version <= version),
    'test tenant',
  );
  expect(Number(db.pragma('user_version', { simple: true }))).toBe(version);
  db.prepare("INSERT INTO tenant_meta (key, value) VALUES ('probe', 'kept')").run();
  db.prepare("INSERT INTO notes (title, body, created_at) VALUES ('Kickoff', 'agenda and minutes', '2026-01-01T00:00:00Z')").run();
  if (version >= 2) {
    const vectors = await embedder.embed(TEXTS);
    const now = '2026-01-02T00:00:00Z';
    const df = new Map<string, number>([['', TEXTS.length]]);
    db.transaction(() => {
      TEXTS.forEach((text, i) => {
        const id = i + 1;
        const sha = crypto.createHash('sha256').update(text).digest('hex');
        db.prepare(
          'INSERT INTO documents (id, source_path, title, format, content_sha256, bytes, chunk_count, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)',
        ).run(id, `/docs/doc-${id}.txt`, `doc-${id}`, 'txt', sha, text.length, now, now);
        db.prepare('INSERT INTO chunks (id, document_id, ordinal, text, token_count, char_start, char_end, sha256) VALUES (?, ?, 0, ?, ?, 0, ?, ?)').run(
          id,
          id,
          text,
          Math.ceil(text.length / 4),
          text.length,
          sha,
        );
        db.prepare('INSERT INTO chunks_fts (rowid, text) VALUES (?, ?)').run(id, ftsIndexText(text));
        for (const stem of new Set(contentWords(text).map(porterStem))) df.set(stem, (df.get(stem) ?? 0) + 1);
      });
      for (const [term, n] of df) db.prepare('INSERT INTO term_stats (term, df) VALUES (?, ?)').run(term, n);
      // The float vectors of generation 1; from schema 5 on, its codes and int8 copies too (before, migration 5 makes them).
      db.exec('CREATE TABLE chunk_vectors_1 (chunk_id INTEGER PRIMARY KEY, embedding BLOB NOT NULL) STRICT');
      if (version >= 5) {
        db.exec('CREATE TABLE chunk_bits_1 (chunk_id INTEGER PRIMARY KEY, code BLOB NOT NULL) STRICT');
        db.exec('CREATE TABLE chunk_q8_1 (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL) STRICT');
      }
      vectors.forEach((v, i) => {
        db.prepare('INSERT INTO chunk_vectors_1 (chunk_id, embedding) VALUES (?, ?)').run(i + 1, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        if (version >= 5) {
          db.prepare('INSERT INTO chunk_bits_1 (chunk_id, code) VALUES (?, ?)').run(i + 1, simhash(v));
          db.prepare('INSERT INTO chunk_q8_1 (chunk_id, vector) VALUES (?, ?)').run(i + 1, quantizeInt8(v));
        }
      });
      db.prepare("INSERT INTO tenant_meta (key, value) VALUES ('knowledge.vectors', ?)").run(
        JSON.stringify({ generation: 1, embedderId: embedder.id, dimension: embedder.dimension }),
      );
    })();
  }
  if (version >= 4) {
    db.prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (1, 'Pier works', 'x', 'x')").run();
    db.prepare("INSERT INTO messages (conversation_id, seq, role, content, created_at) VALUES (1, 1, 'user', 'when are the pier works?', 'x')").run();
  }
  return { db, dir };
}

function handleOver(db: Db, dir: string): TenantHandle {
  let head: ReturnType<AuditBinding['head']> = null;
  const audit: AuditBinding = { key: crypto.randomBytes(32), head: () => head, advance: (h) => (head = h) };
  const handle = mintTenantHandle('migrated', 'Migrated', db, crypto.randomBytes(32), audit);
  opened.push({ handle, dir });
  return handle;
}

const textsOf = (tenant: TenantHandle, r: HybridRanking): string[] =>
  r.fused.slice(0, 20).map((h) => tenant.db.prepare('SELECT text FROM chunks WHERE id = ?').pluck().get(h.chunkId) as string);

describe('tenant migrations', () => {
  it('none imports live code: each carries its own DDL and data steps', () => {
    const dir = path.join('src-main', 'vault', 'migrations', 'tenant');
    for (const file of fs.readdirSync(dir).filter((f) => /^\d{4}-.*\.ts$/.test(f))) {
      const imports = [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      expect({ file, imports }).toEqual({ file, imports: ['../migrate.js'] });
    }
  });

  it('bring a tenant written at every historical version to the newest, with its data and its rankings', async () => {
    const newest = await openFreshTenant('Newest');
    await storeChunks(newest, embedder, TEXTS);
    const expected = new Map<string, string[]>();
    for (const q of QUERIES) expected.set(q, textsOf(newest, await hybridRank(newest, embedder, q)));

    for (let version = 1; version <= LATEST; version++) {
      const { db, dir } = await tenantAt(version);
      migrate(db, tenantMigrations, 'test tenant');
      const tenant = handleOver(db, dir);
      const count = (sql: string): number => Number(tenant.db.prepare(sql).pluck().get());
      expect({ version, schema: Number(tenant.db.pragma('user_version', { simple: true })) }).toEqual({ version, schema: LATEST });
      expect(tenant.db.prepare("SELECT value FROM tenant_meta WHERE key = 'probe'").pluck().get()).toBe('kept');
      expect(count('SELECT count(*) FROM notes')).toBe(1);
      if (version < 2) continue;
      expect({
        version,
        chunks: count('SELECT count(*) FROM chunks'),
        bits: count('SELECT count(*) FROM chunk_bits_1'),
        q8: count('SELECT count(*) FROM chunk_q8_1'),
      }).toEqual({
        version,
        chunks: TEXTS.length,
        bits: TEXTS.length,
        q8: TEXTS.length,
      });
      if (version >= 4) expect(count('SELECT count(*) FROM messages')).toBe(1);
      // Right after the migration every chunk is pending in the term index; after a merge, none.
      for (const stage of ['pending', 'merged']) {
        for (const q of QUERIES)
          expect({ version, stage, q, top: textsOf(tenant, await hybridRank(tenant, embedder, q)) }).toEqual({ version, stage, q, top: expected.get(q) });
        if (stage === 'pending') expect(mergePendingTerms(tenant)).toBe(TEXTS.length);
      }
      expect(count('SELECT count(*) FROM term_index_pending')).toBe(0);
    }
  });
});
