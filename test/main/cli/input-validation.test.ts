import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/vault.js';

// Every option a user can type is checked at the boundary: a typed error (INPUT_INVALID, exit 2),
// never INTERNAL; `ingest` says by its exit code whether everything, something or nothing went in.
const BIN = path.resolve('bin/bulkhead.js');
let data: string;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', data, ...args], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BULKHEAD_PASSPHRASE: 'input validation passphrase',
      BULKHEAD_EXPORT_PASSPHRASE: 'export passphrase here',
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  data = tempDir();
  expect(cli(['init']).code).toBe(0);
  expect(cli(['tenant', 'create', 'Acme']).code).toBe(0);
});

describe('CLI options are validated at the boundary', () => {
  it.each([
    [['docs', 'list', '--tenant', 'Acme', '--limit', 'abc'], '--limit'],
    [['docs', 'list', '--tenant', 'Acme', '--offset', '1e20'], '--offset'],
    [['docs', 'list', '--tenant', 'Acme', '--limit', '-5'], '--limit'],
    [['docs', 'list', '--tenant', 'Acme', '--limit', '0'], '--limit'],
    [['docs', 'list', '--tenant', 'Acme', '--limit', '1.5'], '--limit'],
    [['docs', 'list', '--tenant', 'Acme', '--offset', '0x10'], '--offset'],
    [['search', '--tenant', 'Acme', '-k', '100000', 'budget'], '--limit'],
    [['search', '--tenant', 'Acme', '-k', 'NaN', 'budget'], '--limit'],
    [['docs', 'delete', '--tenant', 'Acme', '99999999999999999999'], 'document id'],
    [['audit', 'list', '--tenant', 'Acme', '--after', '-1'], '--after'],
    [['audit', 'list', '--tenant', 'Acme', '--limit', 'all'], '--limit'],
    [['ask', '--tenant', 'Acme', '-k', '1e3', 'question'], '--limit'],
    [['conversations', 'show', '--tenant', 'Acme', 'abc'], 'conversation id'],
  ])('%j is INPUT_INVALID (exit 2) naming %s', (args, named) => {
    const r = cli(['--json', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('INPUT_INVALID');
    expect(r.stderr).toContain(named);
    expect(r.stderr).not.toContain('INTERNAL');
  });

  it('import of a folder, a missing file or a device is INPUT_INVALID, not EISDIR [INTERNAL]', () => {
    for (const target of [tempDir(), path.join(tempDir(), 'missing.bulkhead'), '/dev/zero']) {
      const r = cli(['--json', 'import', target]);
      expect(r.code, `${target}: ${r.stderr}`).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('INPUT_INVALID');
    }
  });

  it('export and backup refuse a destination whose folder does not exist, and restore one that is not a folder', () => {
    const nowhere = path.join(tempDir(), 'no', 'such', 'place');
    expect(cli(['export', '--tenant', 'Acme', '--out', path.join(nowhere, 'a.bulkhead')]).code).toBe(2);
    expect(cli(['backup', '--out', nowhere]).code).toBe(2);
    const file = path.join(tempDir(), 'file.txt');
    fs.writeFileSync(file, 'x');
    expect(cli(['restore', file]).code).toBe(2);
  });
});

describe('ingest exit codes', () => {
  it('0 when everything went in, 8 when some files failed, 9 when nothing was ingested', () => {
    const docs = tempDir();
    fs.writeFileSync(path.join(docs, 'good.md'), '# Good\n\nThe pilot budget is eighty thousand kroner.\n');
    expect(cli(['ingest', '--tenant', 'Acme', path.join(docs, 'good.md')]).code).toBe(0);
    fs.writeFileSync(path.join(docs, 'broken.json'), '{"a": ');
    const partial = cli(['--json', 'ingest', '--tenant', 'Acme', docs]);
    expect(partial.code).toBe(8);
    expect(JSON.parse(partial.stdout)).toMatchObject({ unchanged: 1, failed: 1 });

    const fifo = path.join(tempDir(), 'pipe.txt');
    execFileSync('mkfifo', [fifo]);
    for (const target of [path.join(docs, 'missing.txt'), fifo, '/dev/zero', path.join(docs, 'broken.json'), tempDir()]) {
      const r = cli(['--json', 'ingest', '--tenant', 'Acme', target]);
      expect(r.code, `${target}: ${r.stdout}`).toBe(9);
      expect(JSON.parse(r.stdout)).toMatchObject({ added: 0, replaced: 0, unchanged: 0 });
    }
  });
});
