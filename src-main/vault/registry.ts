import fs from 'node:fs';
import { BulkheadError } from '../../src-shared/errors.js';
import { migrate } from './migrations/migrate.js';
import { registryMigrations } from './migrations/registry/index.js';
import { createOwnerOnlyFile } from './paths.js';
import { vacuumInto } from './snapshot.js';
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

/** A tenant's audit key (wrapped) and the head of its chain, as the registry keeps them. */
export interface AuditSlot {
  wrappedKey: Buffer;
  head: { seq: number; hash: string } | null;
}

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
      // The registry is small: checking every page at unlock names a damaged one REGISTRY_CORRUPT
      // here, instead of an unnamed failure in whatever command reads it first.
      if (!fresh && db.pragma('quick_check', { simple: true }) !== 'ok') {
        throw new BulkheadError('REGISTRY_CORRUPT', `${LABEL} is damaged; restore it from a backup`);
      }
      migrate(db, registryMigrations, LABEL);
    } catch (err) {
      db.close();
      throw mapSqliteError(err, LABEL, 'REGISTRY_CORRUPT');
    }
    return new Registry(db);
  }

  list(): TenantRecord[] {
    const rows = this.#read(() => this.db.prepare('SELECT * FROM tenants ORDER BY display_name COLLATE NOCASE, id').all() as Row[]);
    return rows.map(toRecord);
  }

  get(id: string): TenantRecord | undefined {
    const row = this.#read(() => this.#byId.get(id) as Row | undefined);
    return row && toRecord(row);
  }

  findByNameKey(nameKey: string): TenantRecord | undefined {
    const row = this.#read(() => this.#byNameKey.get(nameKey) as Row | undefined);
    return row && toRecord(row);
  }

  /** A damaged page met after unlock is the registry's damage, named as such. */
  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err, LABEL, 'REGISTRY_CORRUPT');
    }
  }

  /** The tenant's row and its audit slot, together or not at all. */
  insert(rec: TenantRecord, nameKey: string, audit: AuditSlot): void {
    try {
      this.db
        .transaction(() => {
          this.db
            .prepare('INSERT INTO tenants (id, display_name, name_key, created_at, key_version, wrapped_key) VALUES (?, ?, ?, ?, ?, ?)')
            .run(rec.id, rec.name, nameKey, rec.createdAt, rec.keyVersion, rec.wrappedKey);
          this.putAudit(rec.id, audit);
        })
        .immediate();
    } catch (err) {
      throw uniqueToNameTaken(err);
    }
  }

  audit(id: string): AuditSlot | undefined {
    const row = this.db.prepare('SELECT wrapped_key, head_seq, head_hash FROM tenant_audit WHERE tenant_id = ?').get(id) as
      | { wrapped_key: Buffer; head_seq: number; head_hash: string | null }
      | undefined;
    if (!row) return undefined;
    return { wrappedKey: row.wrapped_key, head: row.head_seq > 0 && row.head_hash ? { seq: row.head_seq, hash: row.head_hash } : null };
  }

  putAudit(id: string, audit: AuditSlot): void {
    this.db
      .prepare('INSERT OR REPLACE INTO tenant_audit (tenant_id, wrapped_key, head_seq, head_hash) VALUES (?, ?, ?, ?)')
      .run(id, audit.wrappedKey, audit.head?.seq ?? 0, audit.head?.hash ?? null);
  }

  /** Moves the head forward only: a late writer cannot pull it back over newer records. */
  /**
   * Without waiting for the disk (synchronous=NORMAL for this one commit): the record it points
   * to committed with a full sync first, so a power cut can only leave the head behind the
   * chain, which verifyAudit accepts; it never gets ahead. One fsync less per search and per
   * ingested document.
   */
  /** The vault's own chain (vault-audit.ts): its wrapped key and head, or undefined before its first record. */
  vaultAudit(): AuditSlot | undefined {
    const row = this.db.prepare('SELECT wrapped_key, head_seq, head_hash FROM vault_audit WHERE id = 1').get() as
      | { wrapped_key: Buffer; head_seq: number; head_hash: string | null }
      | undefined;
    if (!row) return undefined;
    return { wrappedKey: row.wrapped_key, head: row.head_hash ? { seq: row.head_seq, hash: row.head_hash } : null };
  }

  putVaultAudit(wrappedKey: Buffer): void {
    this.db.prepare('INSERT INTO vault_audit (id, wrapped_key) VALUES (1, ?)').run(wrappedKey);
  }

  advanceVaultAuditHead(seq: number, hash: string): void {
    this.db.prepare('UPDATE vault_audit SET head_seq = ?, head_hash = ? WHERE id = 1 AND head_seq < ?').run(seq, hash, seq);
  }

  advanceAuditHead(id: string, seq: number, hash: string): void {
    this.db.pragma('synchronous=NORMAL');
    try {
      this.db.prepare('UPDATE tenant_audit SET head_seq = ?, head_hash = ? WHERE tenant_id = ? AND head_seq < ?').run(seq, hash, id, seq);
    } finally {
      this.db.pragma('synchronous=FULL');
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

  /**
   * The tenant's data key after a rotation. The checkpoint moves the overwritten row into the
   * main file and empties the WAL, so the old wrapped key does not linger there.
   */
  updateKey(id: string, keyVersion: number, wrappedKey: Buffer): void {
    const { changes } = this.db.prepare('UPDATE tenants SET key_version = ?, wrapped_key = ? WHERE id = ?').run(keyVersion, wrappedKey, id);
    if (changes !== 1) throw new BulkheadError('TENANT_NOT_FOUND', 'no tenant with that id');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** A consistent copy of the registry (same key), for backups. */
  snapshotInto(file: string): void {
    vacuumInto(this.db, file);
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
