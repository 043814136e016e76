// Learning a term space takes seconds of arithmetic (a randomized SVD over up to 20,000 passages):
// it runs on a thread of its own, so searches and the console go on meanwhile, and a cancel (or
// the tenant closing) ends the thread at once.
import { startModuleWorker } from '../threads/module-worker.js';
import { EmbedderError } from './embedder.js';

type Reply = { ok: true; bytes: Uint8Array } | { ok: false; tooLittle: boolean; message: string };

/** Thrown when the passages share too few words to learn from (not a failure: the tenant keeps the hash vectors). */
export class TooLittleText extends Error {
  override readonly name = 'TooLittleText';
}

/** The encoded term space learnt from `texts`, on a worker thread. */
export function learnTermSpaceOffThread(texts: readonly string[], signal?: AbortSignal): Promise<Uint8Array> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(new URL('./term-space-thread', import.meta.url), import.meta.url, { texts });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = (): void => settle(() => reject(new EmbedderError('ABORTED', 'learning the term space was cancelled', { cause: signal?.reason })));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: Reply) =>
      settle(() =>
        reply.ok
          ? resolve(reply.bytes)
          : reject(reply.tooLittle ? new TooLittleText(reply.message) : new Error(`learning the term space failed: ${reply.message}`)),
      ),
    );
    worker.once('error', (err) => settle(() => reject(err)));
    worker.once('exit', (code) => settle(() => reject(new Error(`the term space thread stopped (exit code ${code})`))));
  });
}
