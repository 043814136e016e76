import type { z } from 'zod';
import { calls, isCallName, isStreamName, streams, type ApiError, type Result } from '../../src-shared/contract.js';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { CALL_SCOPE, STREAM_SCOPE } from './call-scope.js';
import { callHandlers, streamHandlers } from './handlers.js';
import type { ConsoleSession } from './session.js';

/** A zod failure as one line a person can act on: which field, what is wrong with it. */
function inputError(err: z.ZodError): ApiError {
  const issue = err.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { code: 'INPUT_INVALID', message: `${where}${issue?.message ?? 'invalid input'}` };
}

/**
 * Only an error's code and message cross the boundary. Anything that is not a BulkheadError is
 * a bug: its message could carry tenant content (a SQL value, a path), so it is not passed on.
 */
export function toApiError(err: unknown): ApiError {
  if (isBulkheadError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error && err.name === 'AbortError') return { code: 'CANCELLED', message: 'stopped' };
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.name === 'EmbedderError') {
    return { code: 'EMBEDDER_UNAVAILABLE', message: err.message };
  }
  return { code: 'INTERNAL', message: 'something went wrong in the console; nothing was changed by the failed step' };
}

function parseOutput<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  // Outputs are checked too: a handler that returns more than the contract says is a bug, not a leak.
  if (!r.success) throw new BulkheadError('INTERNAL', 'the console produced an answer it does not recognise');
  return r.data;
}

/**
 * Runs a call. `view` is the tenant the calling window shows (the transports always pass it, null
 * when none); a call that acts on the open tenant and names another is refused (TENANT_CHANGED).
 */
export async function invokeCall(s: ConsoleSession, name: unknown, raw: unknown, view?: string | null): Promise<Result<unknown>> {
  if (!isCallName(name)) return { ok: false, error: { code: 'INPUT_INVALID', message: 'no such call' } };
  s.touch();
  const entry = calls[name];
  const input = entry.input.safeParse(raw ?? {});
  if (!input.success) return { ok: false, error: inputError(input.error) };
  try {
    s.admit(CALL_SCOPE[name], view);
    const handler = callHandlers[name] as (s: ConsoleSession, i: unknown) => unknown;
    const value = await handler(s, input.data);
    return { ok: true, value: parseOutput(entry.output as z.ZodType, value) };
  } catch (err) {
    return { ok: false, error: toApiError(err) };
  }
}

const closedMidway: Result<never> = { ok: false, error: { code: 'CANCELLED', message: 'the client was closed before this finished' } };

/**
 * Runs a stream call. Events are checked against the contract and dropped once another tenant
 * is open (or the vault locked): late progress of client A never shows under client B.
 */
export async function invokeStream(
  s: ConsoleSession,
  name: unknown,
  raw: unknown,
  onEvent: (event: unknown) => void,
  signal: AbortSignal,
  view?: string | null,
): Promise<Result<unknown>> {
  if (!isStreamName(name)) return { ok: false, error: { code: 'INPUT_INVALID', message: 'no such stream' } };
  s.touch();
  const entry = streams[name];
  const input = entry.input.safeParse(raw ?? {});
  if (!input.success) return { ok: false, error: inputError(input.error) };
  const tenantAtStart = s.current;
  const emit = (event: unknown): void => {
    if (signal.aborted || s.current !== tenantAtStart) return;
    s.touch(); // a stream that is still reporting is activity
    onEvent(parseOutput(entry.event as z.ZodType, event));
  };
  try {
    s.admit(STREAM_SCOPE[name], view);
    const handler = streamHandlers[name] as (s: ConsoleSession, i: unknown, emit: (e: unknown) => void, signal: AbortSignal) => Promise<unknown>;
    const value = await handler(s, input.data, emit, signal);
    if (s.current !== tenantAtStart) return closedMidway;
    return { ok: true, value: parseOutput(entry.output as z.ZodType, value) };
  } catch (err) {
    // Whatever the interrupted work threw (TENANT_CLOSED, an abort), the caller learns one thing.
    if (s.current !== tenantAtStart) return closedMidway;
    return { ok: false, error: toApiError(err) };
  }
}
