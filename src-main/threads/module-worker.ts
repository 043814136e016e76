// Starts a worker thread on one of src-main's own modules. From the TypeScript sources (the tests
// run them through tsx) the thread registers tsx before loading its module; from the build it
// loads the compiled .js directly.
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** `base` is the worker module's URL without its extension: new URL('./x-thread', import.meta.url) of the caller. */
export function startModuleWorker(base: URL, callerUrl: string, workerData?: unknown, resourceLimits?: ResourceLimits): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`${base.href}${fromSource ? '.ts' : '.js'}`);
  return fromSource
    ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`, {
        eval: true,
        workerData,
        ...(resourceLimits ? { resourceLimits } : {}),
      })
    : new Worker(url, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
}
