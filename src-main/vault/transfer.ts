import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { DisplayName, nameKey } from '../../src-shared/tenant.js';
import { verifyAudit } from './audit-chain.js';
import { newTenantId } from './ids.js';
import { errorCode } from '../log/logger.js';
import { BundleKeys, encodeHeader, openBundle, type BundleManifest, type OpenedBundle } from './bundle.js';
import { tenantLabel, type VaultCore } from './core.js';
import { closeTenantHandle, mintTenantHandle } from './handle.js';
import { refuseMisleadingName } from './names.js';
import { Keyring, newKdfParams, randomKey, type KdfParams } from './keyring.js';
import { migrate } from './migrations/migrate.js';
import { tenantMigrations } from './migrations/tenant/index.js';
import { checkExactSchema, checkKnownVersion, checkOwner, checkSettings } from './import-checks.js';
import type { TenantRecord } from './registry.js';
import {
  besideTarget,
  checkIntegrity,
  removeLeftovers,
  openRaw,
  publish,
  rekeyCopy,
  removeDatabaseFiles,
  sha256File,
  tableDigests,
  vacuumInto,
  type TableDigest,
} from './snapshot.js';
import { mapSqliteError, openEncryptedDatabase, rekeyDatabase, type Db } from './sqlite.js';

export interface ExportOptions {
  /** Argon2id cost for the export passphrase; the CLI always uses the default. */
  kdf?: Omit<KdfParams, 'salt'>;
}

export interface ExportResult {
  file: string;
  tenantId: string;
  bytes: number;
  tables: number;
  auditHead: { seq: number; hash: string } | null;
}

export interface ImportResult {
  tenantId: string;
  name: string;
  /** true when the bundle's tenant id was already taken here and a new one was given. */
  newId: boolean;
  tables: number;
  /** Settings of the machine the bundle was made on, left out (see MACHINE_LOCAL_SETTINGS). */
  droppedSettings: string[];
}

/**
 * Settings that name folders, programs and credentials of the machine a bundle was made on:
 * watched folders (this machine would read whatever folder they name into the tenant as it opens)
 * and tool connectors (a command to run, paths it may read, the network, secrets). They are not
 * the client's to bring, so an import leaves them out and says so; the user adds them again here.
 */
const MACHINE_LOCAL_SETTINGS = ['watch.', 'connectors.'];

/**
 * Writes one encrypted bundle of a tenant: a VACUUM INTO snapshot beside the target, re-keyed
 * under a key from the export passphrase, after a manifest of every table's rows and hash and
 * the head of its audit chain. The target appears whole or not at all.
 */
export async function exportTenant(core: VaultCore, id: string, outFile: string, passphrase: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const rec = core.record(id);
  const label = tenantLabel(rec);
  const out = path.resolve(outFile);
  if (fs.existsSync(out)) throw new BulkheadError('FILE_EXISTS', `${out} already exists; choose another file name`);
  removeLeftovers(out, 'db');
  removeLeftovers(out, 'bundle');
  const tmpDb = besideTarget(out, 'db');
  const tmpBundle = besideTarget(out, 'bundle');
  const kdf = newKdfParams(opts.kdf);
  const keys = await BundleKeys.derive(passphrase, kdf);
  const key = core.keyring.unwrapTenantKey(rec.id, rec.keyVersion, rec.wrappedKey);
  try {
    snapshotTenant(core, rec, key, tmpDb);
    const content = describeSnapshot(tmpDb, key, label);
    rekeyCopy(tmpDb, key, keys.db, label);
    const manifest = await buildManifest(core, rec, tmpDb, content);
    await writeBundle(tmpBundle, encodeHeader(keys, kdf, manifest), tmpDb);
    publish(tmpBundle, out);
    core.audit(id, 'export', { bundleSha256: manifest.db.sha256, auditSeq: manifest.audit.head?.seq ?? 0, tables: Object.keys(manifest.tables).length });
    core.log.info('tenant.export', { tenant: id, bytes: manifest.db.bytes });
    return { file: out, tenantId: id, bytes: fs.statSync(out).size, tables: Object.keys(manifest.tables).length, auditHead: manifest.audit.head };
  } catch (err) {
    const mapped = mapSqliteError(err, label);
    core.log.error('tenant.export.failed', { tenant: id, code: errorCode(mapped) });
    throw mapped;
  } finally {
    key.fill(0);
    keys.destroy();
    removeDatabaseFiles(tmpDb);
    fs.rmSync(tmpBundle, { force: true });
  }
}

function snapshotTenant(core: VaultCore, rec: TenantRecord, key: Buffer, target: string): void {
  const db = openEncryptedDatabase(core.paths.tenantFile(rec.id), key, { mustExist: true, label: tenantLabel(rec) });
  try {
    vacuumInto(db, target);
  } finally {
    db.close();
  }
}

interface SnapshotContent {
  schemaVersion: number;
  tables: Record<string, TableDigest>;
  auditHead: { seq: number; hash: string } | null;
}

function describeSnapshot(file: string, key: Buffer, label: string): SnapshotContent {
  const db = openRaw(file, key, label);
  try {
    const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    return { schemaVersion: Number(db.pragma('user_version', { simple: true })), tables: tableDigests(db), auditHead: head ?? null };
  } finally {
    db.close();
  }
}

async function buildManifest(core: VaultCore, rec: TenantRecord, dbFile: string, content: SnapshotContent): Promise<BundleManifest> {
  const slot = core.registry.audit(rec.id);
  if (!slot) throw new BulkheadError('TENANT_CORRUPT', `${tenantLabel(rec)}: it has no audit key; open it once before exporting`);
  const auditKey = core.keyring.unwrapAuditKey(rec.id, slot.wrappedKey);
  try {
    return {
      createdAt: new Date().toISOString(),
      tenant: { id: rec.id, name: rec.name, createdAt: rec.createdAt },
      schemaVersion: content.schemaVersion,
      db: { bytes: fs.statSync(dbFile).size, sha256: await sha256File(dbFile) },
      tables: content.tables,
      audit: { key: auditKey.toString('base64'), head: content.auditHead },
    };
  } finally {
    auditKey.fill(0);
  }
}

async function writeBundle(target: string, header: Buffer, dbFile: string): Promise<void> {
  const fd = fs.openSync(target, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
  fs.writeSync(fd, header);
  await pipeline(fs.createReadStream(dbFile, { highWaterMark: 1 << 20 }), fs.createWriteStream('', { fd, start: header.length }));
}

/**
 * Brings a bundle's tenant into this vault. Everything is checked on a private copy first (the
 * passphrase, the manifest's seal, the database's hash, the tenant id, the exact schema of its
 * version, every setting, every table's rows and hash, the audit chain against the manifest's
 * head, then a first open that migrates it); only then does the file move into place and the
 * registry learn of it. A refusal leaves the vault as it was, byte for byte.
 */
export async function importTenant(core: VaultCore, bundleFile: string, passphrase: string, opts: { rename?: string } = {}): Promise<ImportResult> {
  const opened = await openBundle(path.resolve(bundleFile), passphrase, Keyring.readParams(core.paths.keyring));
  const { manifest } = opened;
  const dataKey = randomKey();
  const auditKey = Buffer.from(manifest.audit.key, 'base64');
  let tmp: string | null = null;
  let published: string | null = null;
  let rec: TenantRecord;
  let newId: boolean;
  let droppedSettings: string[];
  try {
    const name = importName(core, opts.rename ?? manifest.tenant.name);
    newId = core.registry.get(manifest.tenant.id) !== undefined;
    rec = { id: newId ? newTenantId() : manifest.tenant.id, name, createdAt: manifest.tenant.createdAt, keyVersion: 1, wrappedKey: Buffer.alloc(0) };
    const target = core.paths.tenantFile(rec.id);
    removeLeftovers(target, 'import');
    tmp = besideTarget(target, 'import');
    await extractDatabase(bundleFile, opened, tmp);
    droppedSettings = checkAndRekeyCopy(tmp, opened, auditKey, rec, dataKey, newId);
    rec.wrappedKey = core.keyring.wrapTenantKey(rec.id, rec.keyVersion, dataKey);
    const wrappedAudit = core.keyring.wrapAuditKey(rec.id, auditKey);
    // An orphan at the target (an import killed after this rename) is replaced, with whatever
    // SQLite left beside it (a stale WAL would be replayed onto the new file); until the
    // registry row below exists, the file is undecryptable and not a tenant.
    for (const side of ['-wal', '-shm', '-journal']) fs.rmSync(target + side, { force: true });
    publish(tmp, target);
    published = target;
    core.registry.insert(rec, nameKey(name), { wrappedKey: wrappedAudit, head: manifest.audit.head });
  } catch (err) {
    if (published) removeDatabaseFiles(published);
    const mapped = importError(err);
    core.log.warn('tenant.import.refused', { code: errorCode(mapped) });
    throw mapped;
  } finally {
    dataKey.fill(0);
    auditKey.fill(0);
    opened.keys.destroy();
    if (tmp) removeDatabaseFiles(tmp);
  }
  const id = rec.id;
  const name = rec.name;
  try {
    core.audit(id, 'import', { bundleSha256: manifest.db.sha256, auditSeq: manifest.audit.head?.seq ?? 0, newId });
  } catch (err) {
    // The copy opened before it was published, so this is not expected; if it happens, the
    // tenant leaves again rather than stay in the registry with a file nobody can open.
    core.closeTenant(id);
    core.registry.destroy(id);
    removeDatabaseFiles(core.paths.tenantFile(id));
    const mapped = importError(err);
    core.log.warn('tenant.import.refused', { code: errorCode(mapped) });
    throw mapped;
  }
  core.log.info('tenant.import', { tenant: id, newId, droppedSettings: droppedSettings.length });
  return { tenantId: id, name, newId, tables: Object.keys(manifest.tables).length, droppedSettings };
}

function importName(core: VaultCore, input: string): string {
  const parsed = DisplayName.safeParse(input);
  if (!parsed.success) throw new BulkheadError('INPUT_INVALID', parsed.error.issues[0]?.message ?? 'invalid tenant name');
  refuseMisleadingName(parsed.data, core.registry.list());
  if (core.registry.findByNameKey(nameKey(parsed.data))) {
    throw new BulkheadError('NAME_TAKEN', `a tenant named "${parsed.data}" already exists here; import it under another name with --rename`);
  }
  return parsed.data;
}

async function extractDatabase(bundleFile: string, opened: OpenedBundle, tmp: string): Promise<void> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const source = fs.createReadStream(bundleFile, { start: opened.dbOffset, highWaterMark: 1 << 20 });
  source.on('data', (c) => {
    hash.update(c as Buffer);
    bytes += (c as Buffer).length;
  });
  await pipeline(source, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
  if (bytes !== opened.manifest.db.bytes || hash.digest('hex') !== opened.manifest.db.sha256) {
    throw new BulkheadError('BUNDLE_INVALID', 'the bundle does not match its manifest: its database was altered or cut');
  }
}

/** Checks the copy against the manifest, then re-keys it under the tenant's new data key. */
function checkAndRekeyCopy(tmp: string, opened: OpenedBundle, auditKey: Buffer, rec: TenantRecord, dataKey: Buffer, newId: boolean): string[] {
  const label = tenantLabel(rec);
  let db: Db;
  let dropped: string[] = [];
  try {
    db = openRaw(tmp, opened.keys.db, label);
  } catch (err) {
    if (isBulkheadError(err, 'TENANT_CORRUPT')) throw new BulkheadError('BUNDLE_INVALID', 'the database in the bundle does not open with its key');
    throw err;
  }
  try {
    // Nothing is written to the copy before its schema is known to be exactly ours: a trigger
    // of the bundle's author must never fire here.
    checkContent(db, opened.manifest);
    verifyBundledChain(tmp, opened.keys.db, opened.manifest, auditKey, rec);
    if (newId) db.prepare("UPDATE tenant_meta SET value = ? WHERE key = 'tenant_id'").run(rec.id);
    const keys = db.prepare('SELECT key FROM tenant_meta').pluck().all() as string[];
    dropped = keys.filter((k) => MACHINE_LOCAL_SETTINGS.some((prefix) => k.startsWith(prefix))).sort();
    const drop = db.prepare('DELETE FROM tenant_meta WHERE key = ?');
    for (const k of dropped) drop.run(k);
    rekeyDatabase(db, dataKey);
  } finally {
    if (db.open) db.close();
  }
  firstOpen(tmp, dataKey, rec);
  checkIntegrity(tmp, dataKey, label);
  return dropped;
}

/** The copy opened as the vault will open it: migrated to this build's schema, still exactly ours. */
function firstOpen(tmp: string, dataKey: Buffer, rec: TenantRecord): void {
  const label = tenantLabel(rec);
  const db = openRaw(tmp, dataKey, label);
  try {
    migrate(db, tenantMigrations, label);
    checkExactSchema(db, Number(db.pragma('user_version', { simple: true })));
    checkOwner(db, rec.id);
    checkSettings(db);
  } finally {
    db.close();
  }
}

/**
 * What a refused import says: our own typed errors as they are; a damaged copy is the bundle's
 * fault; SQLite's raw text (chosen, in a crafted bundle, by its author) never reaches the user.
 */
function importError(err: unknown): unknown {
  const mapped = mapSqliteError(err, 'the imported tenant');
  if (isBulkheadError(mapped, 'TENANT_CORRUPT'))
    return new BulkheadError('BUNDLE_INVALID', 'the database in the bundle is damaged or is not a Bulkhead tenant');
  if (mapped instanceof BulkheadError) return mapped;
  if ((err as NodeJS.ErrnoException | null)?.syscall)
    return new BulkheadError('IO_ERROR', `cannot write the imported tenant (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  return new BulkheadError('BUNDLE_INVALID', 'the database in the bundle could not be read as a Bulkhead tenant');
}

function checkContent(db: Db, manifest: BundleManifest): void {
  if (db.pragma('integrity_check', { simple: true }) !== 'ok')
    throw new BulkheadError('BUNDLE_INVALID', 'the database in the bundle fails its integrity check');
  const version = Number(db.pragma('user_version', { simple: true }));
  checkKnownVersion(version);
  if (version !== manifest.schemaVersion) throw new BulkheadError('BUNDLE_INVALID', 'the bundle does not match its manifest (schema version)');
  checkExactSchema(db, version);
  checkOwner(db, manifest.tenant.id);
  checkSettings(db);
  const actual = tableDigests(db);
  const names = new Set([...Object.keys(actual), ...Object.keys(manifest.tables)]);
  for (const table of names) {
    const a = actual[table];
    const m = manifest.tables[table];
    if (!a || !m || a.rows !== m.rows || a.sha256 !== m.sha256) {
      throw new BulkheadError('BUNDLE_INVALID', `the bundle does not match its manifest (table ${table.slice(0, 60)})`);
    }
  }
}

/**
 * The chain must verify under the bundled audit key, up to the head the manifest names. It runs
 * through a handle of its own on a second connection, closed (keys zeroed) when done.
 */
function verifyBundledChain(file: string, dbKey: Buffer, manifest: BundleManifest, auditKey: Buffer, rec: TenantRecord): void {
  const head = manifest.audit.head;
  const handle = mintTenantHandle(rec.id, rec.name, openRaw(file, dbKey, tenantLabel(rec)), randomKey(), {
    key: Buffer.from(auditKey),
    head: () => head,
    advance: () => undefined,
  });
  try {
    const verdict = verifyAudit(handle);
    if (!verdict.ok) throw new BulkheadError('BUNDLE_INVALID', `the bundle's audit chain is broken: ${verdict.reason}`);
    if (verdict.head !== (head?.hash ?? null)) throw new BulkheadError('BUNDLE_INVALID', "the bundle's audit chain does not end at its manifest's head");
  } finally {
    closeTenantHandle(handle);
  }
}
