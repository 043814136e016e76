// The parse worker's side: reads and parses one file at a time for isolated.ts. Whatever a
// hostile file makes a parser do happens here, under this thread's memory cap.
import { parentPort } from 'node:worker_threads';
import { parseFile, type ParseOptions } from './index.js';
import { ParseError } from './parse-error.js';

export interface ParseRequest {
  id: number;
  path: string;
  opts: Omit<ParseOptions, 'signal'>;
}

export type ParseReply =
  | { id: number; ok: true; doc: Awaited<ReturnType<typeof parseFile>> }
  | { id: number; ok: false; code: ParseError['code']; message: string };

parentPort?.on('message', (req: ParseRequest) => {
  void parseFile(req.path, req.opts).then(
    (doc) => parentPort?.postMessage({ id: req.id, ok: true, doc } satisfies ParseReply),
    (err: unknown) => {
      const e = err instanceof ParseError ? err : new ParseError('CORRUPT', 'This document could not be read.');
      parentPort?.postMessage({ id: req.id, ok: false, code: e.code, message: e.message } satisfies ParseReply);
    },
  );
});
