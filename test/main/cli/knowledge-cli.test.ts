import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/vault.js';

const BIN = path.resolve('bin/bulkhead.js');

function cli(dataDir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: 'cli knowledge passphrase' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bulkhead ingest, search, docs, embedder', () => {
  it('ingests a folder with a summary of what failed and why, searches it, lists and deletes documents', () => {
    const data = tempDir();
    expect(cli(data, ['init']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Acme']).code).toBe(0);
    const docs = tempDir();
    fs.writeFileSync(path.join(docs, 'kickoff.md'), '# Kickoff\n\n## Budget\n\nThe pilot budget is eighty thousand kroner.\n');
    fs.writeFileSync(path.join(docs, 'people.csv'), 'name,role\nAstrid,sponsor\n');
    fs.writeFileSync(path.join(docs, 'broken.json'), '{"a": ');

    const ingest = cli(data, ['--json', 'ingest', '--tenant', 'Acme', docs]);
    expect(ingest.code).toBe(8); // some files failed (see test/main/cli/input-validation.test.ts)
    const summary = JSON.parse(ingest.stdout);
    expect(summary).toMatchObject({ added: 2, failed: 1, unchanged: 0, replaced: 0 });
    expect(summary.files.find((f: { path: string }) => f.path.endsWith('broken.json'))).toMatchObject({ status: 'failed', code: 'CORRUPT' });

    const human = cli(data, ['ingest', '--tenant', 'Acme', docs]);
    expect(human.stdout).toMatch(/0 added, 2 unchanged, 0 replaced, 1 failed/);
    expect(human.stdout).toMatch(/failed .*broken\.json: .+ \[CORRUPT\]/);

    const search = JSON.parse(cli(data, ['--json', 'search', '--tenant', 'Acme', 'pilot budget']).stdout);
    expect(search.mode).toBe('hybrid');
    expect(search.passages[0]).toMatchObject({ title: expect.any(String), headingPath: ['Kickoff', 'Budget'], sourcePath: path.join(docs, 'kickoff.md') });
    expect(cli(data, ['search', '--tenant', 'Acme', 'pilot budget']).stdout).toMatch(/^1\. .*\n {3}.*kickoff\.md \(Kickoff > Budget, chars \d+-\d+\)/);

    const list = JSON.parse(cli(data, ['--json', 'docs', '--tenant', 'Acme']).stdout);
    expect(list.totals).toEqual({ documents: 2, chunks: 2 });
    const kickoff = list.documents.find((d: { sourcePath: string }) => d.sourcePath.endsWith('kickoff.md'));
    expect(cli(data, ['docs', 'delete', '--tenant', 'Acme', String(kickoff.id)]).code).toBe(0);
    expect(JSON.parse(cli(data, ['--json', 'docs', 'list', '--tenant', 'Acme']).stdout).totals).toEqual({ documents: 1, chunks: 1 });
    expect(cli(data, ['docs', 'delete', '--tenant', 'Acme', String(kickoff.id)]).code).toBe(4);
    expect(cli(data, ['docs', 'delete', '--tenant', 'Acme', '../1']).code).toBe(2);

    const shown = JSON.parse(cli(data, ['--json', 'embedder', 'show', '--tenant', 'Acme']).stdout);
    expect(shown).toMatchObject({ config: { kind: 'hash' }, index: { embedderId: 'hash-v1', dimension: 384 } });
    expect(cli(data, ['embedder', 'set', '--tenant', 'Acme', 'ollama']).code).toBe(2);
  });

  it('names the tenant it needs and refuses a missing one', () => {
    const data = tempDir();
    cli(data, ['init']);
    expect(cli(data, ['search', 'x']).code).toBe(2);
    expect(cli(data, ['search', '--tenant', 'Nobody', 'x']).code).toBe(4);
  });
});
