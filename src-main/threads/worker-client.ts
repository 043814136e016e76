// The one lifecycle of src-main's worker threads (the background reader, the vector worker): one
// thread started on demand (or ahead of need), requests matched to replies by id, the thread
// unref'd while idle so it never keeps the process alive, every pending request rejected when it
// stops, a new thread for the next request after a stop, and none at all in a process where one
// cannot start (callers then do the work on their own thread: threads only make things faster).
import type { TransferListItem, Worker } from 'node:worker_threads';
import { startModuleWorker } from './module-worker.js';

/** A reply names the request it answers. */
export interface WorkerReply {
  readonly id: number;
}

export interface WorkerClientOptions<Reply extends WorkerReply> {
  /** The worker module's URL without its extension: new URL('./x-thread', import.meta.url) of the caller. */
  readonly module: URL;
  /** The caller's import.meta.url (to start from the sources or the build alike). */
  readonly callerUrl: string;
  /** What each new thread receives as its workerData. */
  readonly workerData?: () => unknown;
  /** The value a reply resolves its request with; throw to reject it. */
  readonly settle: (reply: Reply) => unknown;
  /** The error pending requests are rejected with when the thread stops. */
  readonly stoppedError: () => Error;
}

/** One started thread. */
export interface WorkerThread {
  readonly worker: Worker;
  /** The workerData it was started with. */
  readonly data: unknown;
}

interface Running extends WorkerThread {
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
}

export class WorkerClient<Request, Reply extends WorkerReply> {
  readonly #opts: WorkerClientOptions<Reply>;
  #thread: Running | null = null;
  #unavailable = false;
  #nextId = 1;

  constructor(opts: WorkerClientOptions<Reply>) {
    this.#opts = opts;
  }

  /** The running thread, started now if none runs; null where no thread can start. */
  start(): WorkerThread | null {
    if (this.#thread || this.#unavailable) return this.#thread;
    try {
      const data = this.#opts.workerData?.();
      const worker = startModuleWorker(this.#opts.module, this.#opts.callerUrl, data);
      const t: Running = { worker, data, pending: new Map() };
      worker.on('message', (reply: Reply) => {
        const p = t.pending.get(reply.id);
        if (!p) return;
        t.pending.delete(reply.id);
        if (t.pending.size === 0) worker.unref();
        let value: unknown;
        try {
          value = this.#opts.settle(reply);
        } catch (err) {
          p.reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        p.resolve(value);
      });
      worker.on('error', () => {
        this.#unavailable = true;
        this.#stopped(t);
      });
      worker.on('exit', () => this.#stopped(t));
      worker.unref(); // an idle thread must not keep the process alive (after the listeners, which ref it)
      this.#thread = t;
    } catch {
      this.#unavailable = true;
    }
    return this.#thread;
  }

  /** The running thread, if any (never starts one). */
  get thread(): WorkerThread | null {
    return this.#thread;
  }

  /** Stops the thread (tests, shutdown); a later start begins a new one. */
  async stop(): Promise<void> {
    const t = this.#thread;
    this.#thread = null;
    if (t) await t.worker.terminate();
  }

  /** Sends `message(id)` to `thread` and resolves with the settled reply; rejects if the thread stops first. */
  request<T>(thread: WorkerThread, message: (id: number) => Request, transfer: readonly TransferListItem[] = []): Promise<T> {
    const t = thread as Running;
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      t.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      t.worker.ref();
      t.worker.postMessage(message(id), transfer);
    });
  }

  /** Sends a message that gets no reply. */
  post(thread: WorkerThread, message: Request): void {
    thread.worker.postMessage(message);
  }

  #stopped(t: Running): void {
    if (this.#thread === t) this.#thread = null;
    for (const p of t.pending.values()) p.reject(this.#opts.stoppedError());
    t.pending.clear();
  }
}
