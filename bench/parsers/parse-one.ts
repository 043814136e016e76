// Child process of parsers.bench.ts: parses one file the way ingestion does and prints one JSON
// line with its outcome, wall time and the peak resident memory of the whole process (the parse
// worker included). BENCH_PARSER_MODULE points at another build of the parsers (the baseline);
// BENCH_PARSE_MODE=inline calls parseFile on this thread, as ingestion did before the worker.
import { pathToFileURL } from 'node:url';

const file = process.argv[2]!;
const modulePath = process.env.BENCH_PARSER_MODULE;
const mod = (await import(modulePath ? pathToFileURL(modulePath).href : '../../src-main/ingest/parsers/index.js')) as {
  parseFile: (p: string, o: { maxBytes: number }) => Promise<{ sections: unknown[] }>;
  parseFileIsolated?: (p: string, o: { maxBytes: number }) => Promise<{ sections: unknown[] }>;
  stopParseWorker?: () => Promise<void>;
};
const parse = process.env.BENCH_PARSE_MODE === 'inline' || !mod.parseFileIsolated ? mod.parseFile : mod.parseFileIsolated;
const started = performance.now();
let outcome = 'ok';
try {
  await parse(file, { maxBytes: 64 * 1024 * 1024 });
} catch (err) {
  outcome = (err as { code?: string }).code ?? (err as Error).name;
}
const ms = performance.now() - started;
await mod.stopParseWorker?.();
process.stdout.write(`${JSON.stringify({ outcome, ms: Math.round(ms), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
