import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { terminalText } from '../../../src-main/cli/terminal.js';
import { tempDir } from '../../helpers/vault.js';

// A hostile document's title, text and file name carry terminal escapes: window title (OSC 0),
// clear screen (CSI 2J), a planted link (OSC 8), an 8-bit CSI, carriage returns and a bidi
// override. The CLI runs in a real pseudo-terminal (util-linux `script`), and the bytes it
// writes there must hold none of them.
const BIN = path.resolve('bin/bulkhead.js');
const HOSTILE = '\u001b]0;PWNED\u0007\u001b[2J\u001b[H\u001b]8;;https://evil.example/\u001b\\click here\u001b]8;;\u001b\\\u009b31m\rOVERWRITE\u202Etxt.exe';
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: 'terminal output passphrase' };
let data: string;
let docs: string;

function cli(args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', data, ...args], { encoding: 'utf8', env: ENV });
  return { code: r.status, stdout: r.stdout };
}

/** What the CLI writes to a terminal: run under `script` in a pty, its bytes captured raw. */
function inTerminal(args: string[]): Buffer {
  const out = path.join(tempDir(), 'typescript');
  const quoted = [process.execPath, BIN, '--data-dir', data, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-q', '-e', '-c', `${quoted} 2>/dev/null`, out], { env: ENV, stdio: ['ignore', 'ignore', 'ignore'] });
  expect(r.status, `script ${args.join(' ')}`).not.toBeNull();
  return fs.readFileSync(out);
}

function expectInert(bytes: Buffer, what: string): void {
  expect(bytes.includes(0x1b), `${what}: ESC`).toBe(false);
  const text = bytes.toString('utf8');
  expect(/[\u0080-\u009f]/u.test(text), `${what}: C1 control`).toBe(false);
  expect(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u.test(text), `${what}: bidi control`).toBe(false);
  expect(text.replace(/\r\n/g, '\n').includes('\r'), `${what}: bare carriage return`).toBe(false);
}

beforeAll(() => {
  data = tempDir();
  docs = tempDir();
  expect(cli(['init']).code).toBe(0);
  expect(cli(['tenant', 'create', 'Acme']).code).toBe(0);
  const body = 'The quarterly retainer for the Zanzibar account is forty thousand euros. '.repeat(20);
  fs.writeFileSync(path.join(docs, `report${HOSTILE.replace(/\//g, '_')}.md`), `# Retainer${HOSTILE}\n\n${body}${HOSTILE}\n`);
  fs.writeFileSync(path.join(docs, `broken${HOSTILE.replace(/\//g, '_')}.json`), '{"a": ');
  const ingest = cli(['--json', 'ingest', '--tenant', 'Acme', docs]);
  // The hostile bytes really are in the tenant (escaped in the JSON), so the checks below mean something.
  expect(ingest.stdout).toContain('\\u001b]0;PWNED');
});

describe('the CLI prints what documents and models hold as inert text', () => {
  it.each([
    ['search', () => ['search', '--tenant', 'Acme', 'Zanzibar retainer']],
    ['search --json', () => ['--json', 'search', '--tenant', 'Acme', 'Zanzibar retainer']],
    ['docs list', () => ['docs', 'list', '--tenant', 'Acme']],
    ['docs list --json', () => ['--json', 'docs', 'list', '--tenant', 'Acme']],
    ['ingest (failed file names)', () => ['ingest', '--tenant', 'Acme', docs]],
    ['ask (retrieval only)', () => ['ask', '--tenant', 'Acme', 'Zanzibar retainer']],
  ])('%s writes no escape sequence, C1 control, carriage return or bidi control to the terminal', (what, args) => {
    const bytes = inTerminal(args());
    expect(bytes.toString('utf8')).toMatch(/Retainer|report|broken/);
    expectInert(bytes, what);
  });

  it('the sanitiser removes whole sequences (their parameters do not survive as text) and keeps the words', () => {
    expect(terminalText(`a${HOSTILE}b\tc\nd`)).toBe('aclick hereOVERWRITEtxt.exeb\tc\nd');
    expect(terminalText('unterminated \u001b]0;title and the rest')).toBe('unterminated 0;title and the rest');
  });
});
