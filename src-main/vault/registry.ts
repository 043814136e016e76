import fs from 'node:fs';
import { BulkheadError } from '../../src-shared/errors.js';
import { migrate } from './migrations/migrate.js';
import { registryMigrations } from './migrations/registry/index.js';
import { createOwnerOnlyFile } from './paths.js';
import { mapSqliteError, openEncryptedDatabase, type Db } from './sqlite.js';

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
  keyVersion: number;
  wrappedKey: Buffer;
}

interface Row {
  id: string;
  display_name: string;
  created_at: string;
  key_version: number;
  wrapped_key: Buffer;
}

const LABEL = 'the tenant registry';

/**
 * The list of clients, with their wrapped keys. It is an encrypted database of its own: the
 * names alone are confidential (a prospect must not learn who else is a client).
 */
export class Registry {
  // Prepared once: the lookup sits on the tenant-switch path.
  readonly #byId;
  readonly #byNameKey;

  private constructor(private readonly db: Db) {
    this.#byId = db.prepare('SELECT * FROM tenants WHERE id = ?');
    this.#byNameKey = db.prepare('SELECT * FROM tenants WHERE name_key = ?');
  }

  static open(file: string, key: Buffer): Registry {
    const fresh = !fs.existsSync(file);
    if (fresh) createOwnerOnlyFile(file);
    const db = openEncryptedDatabase(file, key, { mustExist: !fresh, label: LABEL, corruptCode: 'REGISTRY_CORRUPT' });
    try {
      migrate(db, registryMigrations, LABEL);
    } catch (err) {
      db.close();
      throw mapSqliteError(err, LABEL, 'REGISTRY_CORRUPT');
    }
    return new Registry(db);
  }

  list(): TenantRecord[] {
    const rows = this.db.prepare('SELECT * FROM tenants ORDER BY display_name COLLATE NOCASE, id').all() as Row[];
    return rows.map(toRecord);
  }

  get(id: string): TenantRecord | undefined {
    const row = this.#byId.get(id) as Row | undefined;
    return row && toRecord(row);
  }

  findByNameKey(nameKey: string): TenantRecord | undefined {
    const row = this.#byNameKey.get(nameKey) as Row | undefined;
    return row && toRecord(row);
  }

  insert(rec: TenantRecord, nameKey: string): void {
    try {
      this.db
        .prepare('INSERT INTO tenants (id, display_name, name_key, created_at, key_version, wrapped_key) VALUES (?, ?, ?, ?, ?, ?)')
        .run(rec.id, rec.name, nameKey, rec.createdAt, rec.keyVersion, rec.wrappedKey);
    } catch (err) {
      throw uniqueToNameTaken(err);
    }
  }

  rename(id: string, name: string, nameKey: string): void {
    try {
      this.db.prepare('UPDATE tenants SET display_name = ?, name_key = ? WHERE id = ?').run(name, nameKey, id);
    } catch (err) {
      throw uniqueToNameTaken(err);
    }
  }

  /**
   * Destroys the wrapped key: secure_delete overwrites the row, and the checkpoint moves that
   * page into the main file and empties the WAL, so no older copy of the key stays behind.
   */
  destroy(id: string): boolean {
    const { changes } = this.db.prepare('DELETE FROM tenants WHERE id = ?').run(id);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toRecord(r: Row): TenantRecord {
  return { id: r.id, name: r.display_name, createdAt: r.created_at, keyVersion: r.key_version, wrappedKey: r.wrapped_key };
}

function uniqueToNameTaken(err: unknown): unknown {
  if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new BulkheadError('NAME_TAKEN', 'another tenant already has this name');
  }
  return mapSqliteError(err, LABEL, 'REGISTRY_CORRUPT');
}
