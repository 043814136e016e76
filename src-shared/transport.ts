// How calls travel, with no schema library: the Electron preload bundles this file alone.
import type { ErrorCode } from './errors.js';

/** What crosses the boundary: a value or a typed error, never a thrown exception. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** Where each kind of message travels: IPC channels in Electron, paths on the web host. */
export const TRANSPORT = {
  ipc: { call: 'bulkhead:call', stream: 'bulkhead:stream', streamEvent: 'bulkhead:stream-event', cancel: 'bulkhead:cancel', upload: 'bulkhead:upload' },
  http: { call: '/api/call/', stream: '/api/stream/', upload: '/api/upload' },
  /** Header names of the web host: the per-launch token and an upload's file name. */
  headers: { token: 'x-bulkhead-token', fileName: 'x-bulkhead-file-name' },
} as const;

/**
 * The bridge the renderer sees (preload in Electron, fetch on the web host): three generic
 * functions whose names and payloads are checked against the contract on the main side.
 */
export interface Bridge {
  call(name: string, input: unknown): Promise<Result<unknown>>;
  /** `streamId` (random, from the caller) is what `cancel` stops. */
  stream(name: string, input: unknown, onEvent: (event: unknown) => void, streamId: string): Promise<Result<unknown>>;
  cancel(streamId: string): void;
  upload(name: string, bytes: ArrayBuffer): Promise<Result<unknown>>;
}
