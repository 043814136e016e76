import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOSTILE_FILES } from '../../../bench/parsers/hostile-files.js';
import { EXIT } from '../../../src-main/cli/exit-codes.js';
import { tempDir } from '../../helpers/vault.js';

// The whole promise of the bounded parsers, from the outside: a folder that holds pathological
// files beside normal ones is ingested by the real CLI (dist/, parse worker included); the normal
// files go in, each hostile one is reported as failed with its code, and the exit code says
// "some files failed".
const BIN = path.resolve('bin/bulkhead.js');

function cli(dataDir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: 'cli hostile ingest passphrase' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function hostile(name: string, to: string): Promise<void> {
  const file = HOSTILE_FILES.find((f) => f.name === name);
  if (!file) throw new Error(`no hostile file ${name}`);
  await file.write(to);
}

describe('bulkhead ingest of a folder with hostile files in it', () => {
  it('ingests the normal files, reports each hostile one as failed with its code, and exits with "some files failed"', async () => {
    const data = tempDir();
    expect(cli(data, ['init']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Acme']).code).toBe(0);
    const docs = tempDir();
    // Sorted between the normal files, so that a run that stopped at a hostile file would miss some.
    await hostile('csv-60M-empty-cells.csv', path.join(docs, 'b-cells.csv'));
    await hostile('csv-4MiB-record.csv', path.join(docs, 'd-record.csv'));
    await hostile('md-list-3000-deep.md', path.join(docs, 'f-deep.md'));
    fs.writeFileSync(path.join(docs, 'a-kickoff.md'), '# Kickoff\n\nThe pilot budget is eighty thousand kroner.\n');
    fs.writeFileSync(path.join(docs, 'c-people.csv'), 'name,role\nAstrid,sponsor\n');
    fs.writeFileSync(path.join(docs, 'e-notes.txt'), 'The retainer is forty thousand euros.\n');
    fs.writeFileSync(path.join(docs, 'g-after.txt'), 'The last file of the folder is still read.\n');

    const run = cli(data, ['--json', 'ingest', '--tenant', 'Acme', docs]);
    expect(run.code, run.stderr).toBe(EXIT.someFailed);
    const summary = JSON.parse(run.stdout) as { added: number; failed: number; files: { path: string; status: string; code?: string }[] };
    expect(summary).toMatchObject({ added: 4, failed: 3 });
    const status = (name: string) => summary.files.find((f) => f.path.endsWith(name));
    expect(status('b-cells.csv')).toMatchObject({ status: 'failed', code: 'TOO_LARGE' });
    expect(status('d-record.csv')).toMatchObject({ status: 'failed', code: 'TOO_LARGE' });
    expect(status('f-deep.md')).toMatchObject({ status: 'failed', code: 'TOO_DEEP' });
    for (const name of ['a-kickoff.md', 'c-people.csv', 'e-notes.txt', 'g-after.txt']) expect(status(name)?.status, name).toBe('added');

    const listed = JSON.parse(cli(data, ['--json', 'docs', '--tenant', 'Acme']).stdout) as { totals: { documents: number } };
    expect(listed.totals.documents).toBe(4);
    const search = JSON.parse(cli(data, ['--json', 'search', '--tenant', 'Acme', 'last file still read']).stdout) as {
      passages: { sourcePath: string }[];
    };
    expect(search.passages[0]?.sourcePath).toBe(path.join(docs, 'g-after.txt'));
  });
});
