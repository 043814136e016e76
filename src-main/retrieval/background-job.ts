// A job an open tenant runs in the background (the fusion calibration, the offline embedder's
// tuning): at most one at a time, started after the search that asked has gone on, and started
// again only once the tenant's chunk count has changed since the last one (one that failed is not
// retried at every search). Kept in the tenant's cache: closing the tenant aborts it. A failure
// resolves to null and never reaches the search.
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey, type CacheKey } from '../vault/tenant-cache.js';

interface Job<T> {
  running: boolean;
  /** The chunk count it started at. */
  readonly chunks: number;
  readonly controller: AbortController;
  readonly promise: Promise<T | null>;
}

export type BackgroundJobKey<T> = CacheKey<Job<T>>;

export function backgroundJobKey<T>(name: string): BackgroundJobKey<T> {
  return cacheKey<Job<T>>(name, (job) => job.controller.abort());
}

/** Starts `run` unless one is running, or the last one started at this same chunk count. */
export function startInBackground<T>(tenant: TenantHandle, key: BackgroundJobKey<T>, chunks: number, run: (signal: AbortSignal) => Promise<T | null>): void {
  const kept = tenant.cache.get(key);
  if (kept && (kept.running || kept.chunks === chunks)) return;
  const controller = new AbortController();
  const job: Job<T> = {
    running: true,
    chunks,
    controller,
    // After the search that started it has gone on (a macrotask later), not inside it.
    promise: new Promise((resolve) => setImmediate(resolve))
      .then(() => run(controller.signal))
      .catch(() => null)
      .finally(() => {
        job.running = false;
      }),
  };
  tenant.cache.set(key, job);
}

/** The job of this key running for this tenant, if any (it resolves to null on failure). */
export function pendingInBackground<T>(tenant: TenantHandle, key: BackgroundJobKey<T>): Promise<T | null> | undefined {
  const kept = tenant.cache.get(key);
  return kept?.running ? kept.promise : undefined;
}
