// Typed calls over the bridge: names, inputs and outputs come from the contract.
import type { ApiError, CallInput, CallName, CallOutput, StreamEvent, StreamInput, StreamName, StreamOutput, Upload } from '../src-shared/contract.js';
import { bridge } from './bridge.js';

/** A typed error from main, thrown so screens can `catch` and show `message`. */
export class ApiFailure extends Error {
  readonly code: ApiError['code'];
  constructor(error: ApiError) {
    super(error.message);
    this.code = error.code;
  }
}

let onLocked: () => void = () => undefined;
let onTenantChanged: () => void = () => undefined;
/** The tenant this window's view shows; every call names it, and main refuses a stale one. */
let viewTenant: string | null = null;

export function setViewTenant(tenantId: string | null): void {
  viewTenant = tenantId;
}

/** Called when main answers TENANT_CHANGED (the open tenant is not the one shown): the view reloads. */
export function whenTenantChanged(handler: () => void): void {
  onTenantChanged = handler;
}

/** Called when main answers LOCKED (it locked on its own, e.g. after idle): the UI follows. */
export function whenLocked(handler: () => void): void {
  onLocked = handler;
}

function failure(error: ApiError): ApiFailure {
  if (error.code === 'LOCKED') onLocked();
  if (error.code === 'TENANT_CHANGED') onTenantChanged();
  return new ApiFailure(error);
}

export async function call<K extends CallName>(name: K, input: CallInput<K>): Promise<CallOutput<K>> {
  const r = await bridge.call(name, input, viewTenant);
  if (!r.ok) throw failure(r.error);
  return r.value as CallOutput<K>;
}

export interface RunningStream<T> {
  result: Promise<T>;
  stop(): void;
}

export function stream<K extends StreamName>(name: K, input: StreamInput<K>, onEvent: (e: StreamEvent<K>) => void): RunningStream<StreamOutput<K>> {
  const id = crypto.randomUUID();
  const result = bridge
    .stream(name, input, (e) => onEvent(e as StreamEvent<K>), id, viewTenant)
    .then((r) => {
      if (!r.ok) throw failure(r.error);
      return r.value as StreamOutput<K>;
    });
  return { result, stop: () => bridge.cancel(id) };
}

export async function upload(file: File): Promise<Upload> {
  const r = await bridge.upload(file.name, await file.arrayBuffer(), viewTenant);
  if (!r.ok) throw failure(r.error);
  return r.value as Upload;
}

export function messageOf(err: unknown): string {
  return err instanceof ApiFailure ? err.message : 'something went wrong';
}
