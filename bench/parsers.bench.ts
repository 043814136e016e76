// Time and peak memory of parsing each pathological document (bench/parsers/hostile-files.ts),
// each in a fresh process. With BENCH_BASELINE_MODULE (the parsers/index of an older tree), the
// same files go through that build too, side by side. Prints a table, then one JSON line.
//   npm run bench:parsers                       (BENCH_PARSE_FILES=md-list,pdf to pick some)
//   BENCH_BASELINE_MODULE=/tmp/old/src-main/ingest/parsers/index.ts npx tsx bench/parsers.bench.ts
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOSTILE_FILES } from './parsers/hostile-files.js';

const LIMIT_S = Number(process.env.BENCH_PARSE_LIMIT_S ?? 90);
const fromSource = import.meta.url.endsWith('.ts');
const child = fileURLToPath(new URL(`./parsers/parse-one.${fromSource ? 'ts' : 'js'}`, import.meta.url));

interface Run {
  outcome: string;
  ms: number;
  peak_rss_mb: number;
}

function runOne(file: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    // The baseline's heap is capped too, so that its runaway ends here instead of taking the machine.
    const args = [...(fromSource ? ['--import', 'tsx'] : []), '--max-old-space-size=4096', child, file];
    const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', () => undefined);
    const started = performance.now();
    const timer = setTimeout(() => p.kill('SIGKILL'), LIMIT_S * 1000);
    // A child that is killed or dies cannot report its own peak: sample it from /proc meanwhile.
    let sampledMb = -1;
    const sampler = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (hwm) sampledMb = Math.max(sampledMb, Math.round(Number(hwm[1]) / 1024));
      } catch {
        // gone already, or not Linux
      }
    }, 100);
    p.on('exit', (code, sig) => {
      clearTimeout(timer);
      clearInterval(sampler);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Run);
      } catch {
        const ms = Math.round(performance.now() - started);
        resolve({ outcome: sig === 'SIGKILL' ? `killed after ${LIMIT_S} s` : `process died (exit ${code ?? sig})`, ms, peak_rss_mb: sampledMb });
      }
    });
  });
}

const pick = process.env.BENCH_PARSE_FILES?.split(',');
const files = HOSTILE_FILES.filter((f) => !pick || pick.some((p) => f.name.includes(p)));
const baseline = process.env.BENCH_BASELINE_MODULE;
const dir = await mkdtemp(join(tmpdir(), 'bulkhead-parsers-bench-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const f of files) {
    const path = join(dir, f.name);
    await f.write(path);
    const bytes = (await stat(path)).size;
    const now = await runOne(path, {});
    const before = baseline ? await runOne(path, { BENCH_PARSER_MODULE: baseline, BENCH_PARSE_MODE: 'inline' }) : undefined;
    await rm(path);
    const row: Record<string, unknown> = {
      file: f.name,
      size_mb: +(bytes / 1e6).toFixed(1),
      outcome: now.outcome,
      time_ms: now.ms,
      peak_rss_mb: now.peak_rss_mb,
    };
    if (before)
      Object.assign(row, {
        baseline_outcome: before.outcome,
        baseline_time_ms: before.ms,
        baseline_peak_rss_mb: before.peak_rss_mb,
        time_ratio: +(before.ms / Math.max(1, now.ms)).toFixed(1),
      });
    rows.push(row);
    const side = before ? `   | before: ${before.outcome.padEnd(22)} ${String(before.ms).padStart(7)} ms ${String(before.peak_rss_mb).padStart(6)} MB` : '';
    console.log(
      `${f.name.padEnd(30)} ${String(row.size_mb).padStart(6)} MB  ${now.outcome.padEnd(10)} ${String(now.ms).padStart(7)} ms ${String(now.peak_rss_mb).padStart(6)} MB${side}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'parsers', limit_s: LIMIT_S, files: rows }));
