// The thread that learns a term space (term-space-worker.ts): the passages come in as workerData,
// the encoded model goes back as one message, or the failure as text. It reads no file, holds no
// key and logs nothing; the caller stores what it returns in the tenant's own file.
import { parentPort, workerData } from 'node:worker_threads';
import { learnTermSpace } from './term-space.js';

const { texts } = workerData as { texts: string[] };
try {
  const bytes = learnTermSpace(texts);
  parentPort!.postMessage({ ok: true, bytes }, [bytes.buffer as ArrayBuffer]);
} catch (err) {
  parentPort!.postMessage({ ok: false, tooLittle: err instanceof RangeError, message: err instanceof Error ? err.message : String(err) });
}
