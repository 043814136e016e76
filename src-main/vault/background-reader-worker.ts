// The background reader's thread (see background-reader.ts): one job at a time, each on its own
// read-only connection, opened with the copy of the key the request carried and closed (key
// zeroed) before the reply. It logs nothing; failures go back as a code and a message.
import { parentPort } from 'node:worker_threads';
import { BulkheadError } from '../../src-shared/errors.js';
import type { BackgroundReply, BackgroundRequest } from './background-reader.js';
import { closeTenantHandle, deriveAuditKey, mintTenantHandle, type AuditBinding, type TenantHandle } from './handle.js';
import { openEncryptedDatabase } from './sqlite.js';

/** Typed arrays that own their whole buffer travel back without a copy. */
function transferables(value: unknown): ArrayBuffer[] {
  if (value === null || typeof value !== 'object') return [];
  const out = new Set<ArrayBuffer>();
  for (const v of Object.values(value)) {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  }
  return [...out];
}

/** The connection is query_only, so no job records anything: its audit head is never read nor moved. */
function readOnlyAudit(key: Buffer, tenantId: string): AuditBinding {
  return {
    key: deriveAuditKey(key, tenantId),
    head: () => null,
    advance: () => {
      throw new BulkheadError('INTERNAL', 'the background reader records nothing');
    },
  };
}

async function run(request: BackgroundRequest): Promise<unknown> {
  const key = Buffer.from(request.key.buffer, request.key.byteOffset, request.key.byteLength);
  let handle: TenantHandle | null = null;
  try {
    const db = openEncryptedDatabase(request.file, key, { mustExist: true, label: `tenant "${request.tenantName}"` });
    db.pragma('query_only = ON');
    handle = mintTenantHandle(request.tenantId, request.tenantName, db, Buffer.from(key), readOnlyAudit(key, request.tenantId));
    const module = (await import(request.module)) as Record<string, unknown>;
    const job = module[request.name];
    if (typeof job !== 'function') throw new BulkheadError('INTERNAL', `no background job named ${request.name}`);
    return await (job as (h: TenantHandle, ...args: unknown[]) => unknown)(handle, ...request.args);
  } finally {
    if (handle) closeTenantHandle(handle);
    key.fill(0);
  }
}

parentPort?.on('message', (request: BackgroundRequest) => {
  void run(request).then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value } satisfies BackgroundReply, transferables(value)),
    (err: unknown) => {
      const code = err instanceof BulkheadError ? err.code : 'INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      parentPort!.postMessage({ id: request.id, ok: false, code, message } satisfies BackgroundReply);
    },
  );
});
