// What an imported tenant file must be before the registry learns of it: exactly the schema of
// its version (nothing extra, nothing missing), a known version, settings that parse, and the
// tenant id its manifest names. A bundle is written by whoever knows its export passphrase: a
// trigger, a view or a lower user_version in it would otherwise run or break inside this vault.
import { BulkheadError } from '../../src-shared/errors.js';
import { migrate } from './migrations/migrate.js';
import { tenantMigrations } from './migrations/tenant/index.js';
import { openMemoryDatabase, type Db } from './sqlite.js';
import { declaredTenantSettings, settingParses } from './tenant-settings.js';

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/**
 * Tables the index creates per vector generation (src-main/index/vectors.ts, code-pack.ts); the
 * only schema objects not made by a migration. Kept in step by the export/import round-trip test.
 */
const GENERATION_TABLES: readonly [RegExp, (n: string) => string][] = [
  [/^chunk_vectors_([1-9]\d{0,8})$/, (n) => `CREATE TABLE chunk_vectors_${n} (chunk_id INTEGER PRIMARY KEY, embedding BLOB NOT NULL) STRICT`],
  [/^chunk_bits_([1-9]\d{0,8})$/, (n) => `CREATE TABLE chunk_bits_${n} (chunk_id INTEGER PRIMARY KEY, code BLOB NOT NULL) STRICT`],
  [/^chunk_q8_([1-9]\d{0,8})$/, (n) => `CREATE TABLE chunk_q8_${n} (chunk_id INTEGER PRIMARY KEY, vector BLOB NOT NULL) STRICT`],
  [/^chunk_codepack_([1-9]\d{0,8})$/, (n) => `CREATE TABLE chunk_codepack_${n} (part INTEGER PRIMARY KEY, ids BLOB NOT NULL, codes BLOB NOT NULL) STRICT`],
];

/** SQLite's own statistics tables may or may not exist; they hold no code. */
const OPTIONAL = /^sqlite_stat[1-4]$/;

function schemaOf(db: Db): SchemaRow[] {
  return (db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all() as SchemaRow[]).filter((r) => !OPTIONAL.test(r.name));
}

/** The schema a file of `version` must have, with the generation tables the file names. */
export function referenceSchema(version: number, generationNames: readonly string[]): SchemaRow[] {
  const db = openMemoryDatabase();
  try {
    migrate(
      db,
      tenantMigrations.filter((m) => m.version <= version),
      'the reference schema',
    );
    for (const name of generationNames) {
      for (const [pattern, sql] of GENERATION_TABLES) {
        const m = pattern.exec(name);
        if (m) db.exec(sql(m[1]!));
      }
    }
    return schemaOf(db);
  } finally {
    db.close();
  }
}

/** A user_version this build has a migration for (0 is a file no migration ever ran on). */
export function checkKnownVersion(version: number): void {
  const known = tenantMigrations.some((m) => m.version === version);
  if (!known) {
    const latest = tenantMigrations.at(-1)?.version ?? 0;
    if (version > latest)
      throw new BulkheadError('VERSION_UNSUPPORTED', `the bundle was written by a newer Bulkhead (schema ${version}, this build knows ${latest})`);
    throw new BulkheadError('BUNDLE_INVALID', 'the database in the bundle has a schema version no Bulkhead wrote');
  }
}

/** The file's schema equals the reference of its version: every table, index, trigger and view. */
export function checkExactSchema(db: Db, version: number): void {
  checkKnownVersion(version);
  const actual = schemaOf(db);
  const generation = actual.filter((r) => r.type === 'table' && GENERATION_TABLES.some(([p]) => p.test(r.name))).map((r) => r.name);
  const expected = referenceSchema(version, generation);
  const key = (r: SchemaRow): string => `${r.type}\u0000${r.name}`;
  const want = new Map(expected.map((r) => [key(r), r]));
  const have = new Map(actual.map((r) => [key(r), r]));
  for (const [k, r] of have) {
    const w = want.get(k);
    if (!w) throw new BulkheadError('BUNDLE_INVALID', `the database in the bundle holds a ${kind(r.type)} this version of the schema does not have`);
    if (w.sql !== r.sql || w.tbl_name !== r.tbl_name) throw new BulkheadError('BUNDLE_INVALID', `the database in the bundle has an altered ${kind(r.type)}`);
  }
  for (const [k, r] of want) {
    if (!have.has(k)) throw new BulkheadError('BUNDLE_INVALID', `the database in the bundle lacks a ${kind(r.type)} of its schema version`);
  }
}

function kind(type: string): string {
  return ['table', 'index', 'trigger', 'view'].includes(type) ? type : 'schema object';
}

/** Every declared setting the file holds parses and fits its schema. */
export function checkSettings(db: Db): void {
  const rows = db.prepare('SELECT key, value FROM tenant_meta').all() as { key: unknown; value: unknown }[];
  const declared = declaredTenantSettings();
  for (const { key, value } of rows) {
    if (typeof key !== 'string') throw new BulkheadError('BUNDLE_INVALID', 'the database in the bundle has an unreadable setting');
    const schema = declared.get(key);
    if (schema && (typeof value !== 'string' || !settingParses(value, schema))) {
      throw new BulkheadError('BUNDLE_INVALID', `the bundle's ${key.slice(0, 60)} setting is unreadable`);
    }
  }
}

/** The tenant id the file carries is the one its manifest names. */
export function checkOwner(db: Db, manifestId: string): void {
  const owner = db.prepare("SELECT value FROM tenant_meta WHERE key = 'tenant_id'").pluck().all() as unknown[];
  if (owner.length !== 1 || owner[0] !== manifestId) {
    throw new BulkheadError('BUNDLE_INVALID', 'the database in the bundle belongs to another tenant than its manifest names');
  }
}
