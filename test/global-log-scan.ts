// Global setup and teardown: the run gets a temporary folder of its own (TMPDIR, inherited by
// the test workers and every process they start), and afterwards every app log file written
// under it is read back line by line. Each line must be JSON whose strings are only ids,
// error codes, times and lowercase code words, and no tenant name, canary or passphrase used
// by the tests may appear anywhere. One hit fails the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ERROR_CODES } from '../src-shared/errors.js';

const KNOWN_SECRETS = [
  'Acme',
  'Globex',
  'Zephyr',
  'Quillon',
  'canary',
  'zanzibar',
  'codename',
  'merger',
  'correct horse battery staple',
  'cli test passphrase',
  'cli lifecycle passphrase',
  'cli export passphrase',
  'the new vault passphrase',
];
const CODES = new Set<string>(ERROR_CODES);
/** Another branch's codes are still codes: upper-case words, never a name with spaces. */
const CODE_SHAPE = /^[A-Z][A-Z0-9_]{2,63}$/;

function logFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 6) walk(p, depth + 1);
      else if (e.isFile() && path.basename(dir) === 'logs' && e.name.endsWith('.log')) out.push(p);
    }
  };
  walk(root, 0);
  return out;
}

function problemsOf(line: string): string[] {
  const problems = KNOWN_SECRETS.filter((s) => line.includes(s)).map((s) => `mentions "${s}"`);
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [...problems, 'is not JSON'];
  }
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') continue;
    const fine =
      (k === 'code' && (CODES.has(v) || CODE_SHAPE.test(v))) ||
      (k === 'time' && !Number.isNaN(Date.parse(v))) ||
      /^t_[a-z2-7]{26}$/.test(v) ||
      v === '[redacted]' ||
      /^[a-z0-9][a-z0-9_.:-]*$/.test(v);
    if (!fine) problems.push(`field ${k} holds free text`);
  }
  return problems;
}

export default function setup(): () => void {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-run-'));
  process.env.TMPDIR = runDir;
  return () => {
    const files = logFiles(runDir);
    const hits: string[] = [];
    for (const file of files) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
        for (const p of problemsOf(line)) hits.push(`${file}: ${p}: ${line.slice(0, 160)}`);
      }
    }
    if (hits.length > 0) process.exitCode = 1;
    if (hits.length > 0) throw new Error(`app logs written by the tests (kept in ${runDir}) leak tenant data:\n${hits.slice(0, 20).join('\n')}`);
    process.stderr.write(`log scan: ${files.length} app log files written by this run, no tenant name, content or secret in them\n`);
    fs.rmSync(runDir, { recursive: true, force: true });
  };
}
