// The background job of a tenant's watched folders, while that tenant is open in a console
// session: a sync on start, on file-system events (debounced) and on a timer. The job belongs to
// the open handle and ends with it (the scope's signal fires on every switch, lock or close).
import fs from 'node:fs';
import { createEmbedder } from '../embed/index.js';
import { readEmbedderConfig } from '../embed/settings.js';
import { confirmRemovedFiles, removedFiles, syncWatchedFolders, watchedFolders, type RemovedFile, type SyncSummary } from '../ingest/watch.js';
import type { TenantHandle } from '../vault/handle.js';

export interface WatchStatus {
  folders: { path: string; addedAt: string; present: boolean }[];
  running: boolean;
  progress: { done: number; total: number } | null;
  lastRun: { at: string; added: number; replaced: number; unchanged: number; failed: number } | null;
  error: string | null;
  removed: RemovedFile[];
}

const POLL_MS = Number(process.env.BULKHEAD_WATCH_POLL_MS ?? 60_000);
const DEBOUNCE_MS = 1_000;

class WatchJob {
  running = false;
  progress: { done: number; total: number } | null = null;
  lastRun: WatchStatus['lastRun'] = null;
  error: string | null = null;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  #debounce: NodeJS.Timeout | null = null;
  #watchers: fs.FSWatcher[] = [];
  #stopped = false;

  constructor(
    readonly handle: TenantHandle,
    readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.stop(), { once: true });
    this.#timer = setInterval(() => this.trigger(), POLL_MS);
    this.#timer.unref();
    this.rewatch();
    this.trigger();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Follows the folder list: one recursive watcher per folder (where the platform has them). */
  rewatch(): void {
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    if (this.#stopped || !this.handle.isOpen) return;
    for (const f of watchedFolders(this.handle)) {
      try {
        const w = fs.watch(f.path, { recursive: true, persistent: false }, () => this.#soon());
        w.on('error', () => undefined);
        this.#watchers.push(w);
      } catch {
        // No watcher for this folder: the timer still picks changes up.
      }
    }
  }

  #soon(): void {
    if (this.#stopped) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.trigger(), DEBOUNCE_MS);
    this.#debounce.unref();
  }

  /** Runs a sync now, or once more right after the one running. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.running) {
      this.#again = true;
      return;
    }
    void this.#run();
  }

  async #run(): Promise<void> {
    if (watchedFolders(this.handle).length === 0) return;
    this.running = true;
    this.progress = null;
    try {
      const summary: SyncSummary = await syncWatchedFolders(this.handle, {
        embedder: createEmbedder(this.handle, readEmbedderConfig(this.handle)),
        signal: this.signal,
        onEvent: (e) => {
          if (e.type === 'scanned') this.progress = { done: 0, total: e.files };
          else if (e.type === 'file-done' && this.progress) this.progress = { ...this.progress, done: e.filesDone };
        },
      });
      this.lastRun = { at: new Date().toISOString(), added: summary.added, replaced: summary.replaced, unchanged: summary.unchanged, failed: summary.failed };
      this.error = null;
    } catch (err) {
      if (!this.#stopped) this.error = err instanceof Error && 'code' in err ? err.message : 'the folders could not be synced';
    } finally {
      this.running = false;
      this.progress = null;
    }
    if (this.#again && !this.#stopped) {
      this.#again = false;
      this.trigger();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#debounce) clearTimeout(this.#debounce);
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }
}

/** Keyed by the open handle: a job can only be reached with that tenant's handle. */
const jobs = new WeakMap<TenantHandle, WatchJob>();

/** The job of this open tenant, started on first use when it has watched folders (a new job syncs at once). */
export function watchJob(handle: TenantHandle, signal: AbortSignal): WatchJob | null {
  return ensureWatchJob(handle, signal)?.job ?? null;
}

function ensureWatchJob(handle: TenantHandle, signal: AbortSignal): { job: WatchJob; created: boolean } | null {
  const existing = jobs.get(handle);
  if (existing && !existing.stopped && !signal.aborted) return { job: existing, created: false };
  if (signal.aborted || watchedFolders(handle).length === 0) return null;
  const job = new WatchJob(handle, signal);
  jobs.set(handle, job);
  return { job, created: true };
}

/** After the folder list changed: follow it, and sync (a job just started has already begun one). */
export function foldersChanged(handle: TenantHandle, signal: AbortSignal): void {
  const found = ensureWatchJob(handle, signal);
  if (!found || found.created) return;
  found.job.rewatch();
  found.job.trigger();
}

export function watchStatus(handle: TenantHandle, signal: AbortSignal): WatchStatus {
  const job = watchJob(handle, signal);
  return {
    folders: watchedFolders(handle).map((f) => ({ ...f, present: fs.existsSync(f.path) })),
    running: job?.running ?? false,
    progress: job?.progress ?? null,
    lastRun: job?.lastRun ?? null,
    error: job?.error ?? null,
    removed: removedFiles(handle),
  };
}

export function confirmRemoved(handle: TenantHandle, documentIds: readonly number[]): number {
  return confirmRemovedFiles(handle, documentIds);
}
