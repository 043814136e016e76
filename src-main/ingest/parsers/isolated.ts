// Parsing runs in a worker thread with a memory cap and a deadline, so that a document a parser
// chokes on (a structure the checks in limits.ts did not foresee) costs that document, never the
// process: the CLI's ingest run and the web host, with every client's session, go on. A worker that
// dies (out of its heap, or killed at the deadline) is replaced for the next file.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../threads/module-worker.js';
import type { ParsedDocument, ParseOptions } from './document.js';
import { ParseError, stoppedError } from './parse-error.js';
import type { ParseReply, ParseRequest } from './parse-thread.js';

/** The parse worker's V8 heap, in MiB: far above what a 64 MiB document needs when read sanely. */
export const PARSE_MEMORY_MB = 1024;
/** The whole parse of one file, in the worker, including the third-party parsers' synchronous steps. */
export const DEFAULT_PARSE_TIMEOUT_MS = 120_000;
/** Time the worker gets past the deadline to answer TIMEOUT itself before it is killed. */
const GRACE_MS = 2_000;

export interface IsolatedParseOptions extends ParseOptions {
  /** The worker's heap cap in MiB (PARSE_MEMORY_MB); a worker of another cap is started for it. */
  memoryMb?: number;
}

interface ParseWorker {
  readonly worker: Worker;
  readonly memoryMb: number;
  /** The last 'error' the worker raised (ERR_WORKER_OUT_OF_MEMORY when its heap ran out). */
  failure: Error | undefined;
}

let current: ParseWorker | null = null;
let queue: Promise<unknown> = Promise.resolve();
let nextId = 1;

/** parseFile, in the parse worker; one file at a time, in the order asked. */
export function parseFileIsolated(path: string, opts: IsolatedParseOptions): Promise<ParsedDocument> {
  const run = queue.then(() => parseOne(path, opts));
  queue = run.catch(() => undefined);
  return run;
}

/** Stops the worker (tests, and a process about to exit). */
export async function stopParseWorker(): Promise<void> {
  const w = current;
  current = null;
  if (w) await w.worker.terminate();
}

function workerFor(memoryMb: number): ParseWorker {
  if (current && current.memoryMb === memoryMb) return current;
  if (current) void current.worker.terminate();
  const worker = startModuleWorker(new URL('./parse-thread', import.meta.url), import.meta.url, undefined, {
    maxOldGenerationSizeMb: memoryMb,
    maxYoungGenerationSizeMb: Math.min(64, Math.max(8, memoryMb / 16)),
  });
  const w: ParseWorker = { worker, memoryMb, failure: undefined };
  worker.on('error', (err) => {
    w.failure = err;
  });
  worker.on('exit', () => {
    if (current === w) current = null;
  });
  worker.unref();
  current = w;
  return w;
}

function parseOne(path: string, opts: IsolatedParseOptions): Promise<ParsedDocument> {
  const { signal, memoryMb = PARSE_MEMORY_MB, ...rest } = opts;
  if (signal?.aborted) return Promise.reject(stoppedError(signal));
  const timeoutMs = rest.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
  const w = workerFor(memoryMb);
  const id = nextId++;
  return new Promise<ParsedDocument>((resolve, reject) => {
    let settled = false;
    const finish = (done: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      w.worker.off('message', onMessage);
      w.worker.off('exit', onExit);
      w.worker.unref();
      done();
    };
    const kill = (err: ParseError): void => {
      finish(() => reject(err));
      if (current === w) current = null;
      void w.worker.terminate();
    };
    const onMessage = (reply: ParseReply): void => {
      if (reply.id !== id) return;
      finish(() => (reply.ok ? resolve(reply.doc) : reject(new ParseError(reply.code, reply.message))));
    };
    const onExit = (): void => finish(() => reject(crashError(w.failure)));
    const onAbort = (): void => kill(stoppedError(signal!));
    const timer = setTimeout(() => kill(new ParseError('TIMEOUT', 'Reading this document took too long and was stopped.')), timeoutMs + GRACE_MS);
    signal?.addEventListener('abort', onAbort, { once: true });
    w.worker.on('message', onMessage);
    w.worker.on('exit', onExit);
    w.worker.ref();
    const request: ParseRequest = { id, path, opts: { ...rest, timeoutMs } };
    w.worker.postMessage(request);
  });
}

function crashError(failure: Error | undefined): ParseError {
  if ((failure as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new ParseError('TOO_LARGE', 'Reading this document needed more memory than allowed, so it was stopped.', { cause: failure });
  }
  return new ParseError('CORRUPT', 'The reader stopped on this document.', { cause: failure });
}
