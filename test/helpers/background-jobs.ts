// Jobs for the background reader's tests (test/main/vault/background-reader.test.ts).
import type { TenantHandle } from '../../src-main/vault/handle.js';

export function describeConnection(tenant: TenantHandle, table: string): { rows: number; queryOnly: number; file: string; ids: Int32Array } {
  const ids = Int32Array.from(tenant.db.prepare(`SELECT rowid FROM ${table} ORDER BY rowid`).pluck().all() as number[]);
  return {
    rows: ids.length,
    queryOnly: Number(tenant.db.pragma('query_only', { simple: true })),
    file: tenant.db.name,
    ids,
  };
}

export function tryToWrite(tenant: TenantHandle, table: string): void {
  tenant.db.prepare(`DELETE FROM ${table}`).run();
}
