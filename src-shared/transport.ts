// How calls travel, with no schema library: the Electron preload bundles this file alone.
import type { ErrorCode } from './errors.js';

/** What crosses the boundary: a value or a typed error, never a thrown exception. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** Where each kind of message travels: IPC channels in Electron, paths on the web host. */
export const TRANSPORT = {
  ipc: { call: 'bulkhead:call', stream: 'bulkhead:stream', streamEvent: 'bulkhead:stream-event', cancel: 'bulkhead:cancel', upload: 'bulkhead:upload' },
  http: { call: '/api/call/', stream: '/api/stream/', upload: '/api/upload', session: '/api/session' },
  /**
   * Header names of the web host: the per-launch token (exchanged once per page for a session
   * token), the page's session token, the tenant the page's view shows, and an upload's file name.
   */
  headers: { token: 'x-bulkhead-token', session: 'x-bulkhead-session', tenant: 'x-bulkhead-tenant', fileName: 'x-bulkhead-file-name' },
} as const;

/**
 * The bridge the renderer sees (preload in Electron, fetch on the web host): three generic
 * functions whose names and payloads are checked against the contract on the main side.
 */
export interface Bridge {
  /** `view` names the tenant the window shows (null: none); main refuses a stale one (TENANT_CHANGED). */
  call(name: string, input: unknown, view: string | null): Promise<Result<unknown>>;
  /** `streamId` (random, from the caller) is what `cancel` stops. */
  stream(name: string, input: unknown, onEvent: (event: unknown) => void, streamId: string, view: string | null): Promise<Result<unknown>>;
  cancel(streamId: string): void;
  upload(name: string, bytes: ArrayBuffer, view: string | null): Promise<Result<unknown>>;
}
