import { BulkheadError } from '../../../src-shared/errors.js';
import type { Db } from '../sqlite.js';

/** One schema change. Released migrations are never edited: a fix is a new number. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Db): void;
}

/** Brings a file to the newest schema, one transaction per step, so a crash leaves a whole version. */
export function migrate(db: Db, migrations: readonly Migration[], label: string): void {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > latest) {
    throw new BulkheadError('VERSION_UNSUPPORTED', `${label} was written by a newer Bulkhead (schema ${current}, this build knows ${latest})`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    // IMMEDIATE takes the write lock first (waiting out busy_timeout); the version is read again
    // under it, so a second process opening the same file meanwhile does not run a step twice.
    db.transaction(() => {
      if (Number(db.pragma('user_version', { simple: true })) >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
