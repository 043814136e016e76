import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/vault.js';

const BIN = path.resolve('bin/bulkhead.js');
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: 'cli watch passphrase' };

function cli(dataDir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], { encoding: 'utf8', env: ENV });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bulkhead watch, docs tag, docs show, filtered search', () => {
  it('watches a folder per tenant, lists removed files until confirmed; tags and filters work from the CLI', { timeout: 400_000 }, async () => {
    const data = tempDir();
    expect(cli(data, ['init']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Acme']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Beta']).code).toBe(0);
    const dir = fs.realpathSync(tempDir('bulkhead-cli-watch-'));
    fs.writeFileSync(path.join(dir, 'plan.md'), '# Plan\n\nThe heron project starts in May.');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'Heron notes from the kickoff.');

    expect(cli(data, ['watch', '--tenant', 'Acme', '--add', dir]).stdout).toContain(dir);
    expect(cli(data, ['watch', '--tenant', 'Beta', '--list']).stdout).not.toContain(dir);
    const first = JSON.parse(cli(data, ['--json', 'watch', '--tenant', 'Acme', '--once']).stdout);
    expect(first).toMatchObject({ added: 2, replaced: 0, removed: [] });

    const docs = JSON.parse(cli(data, ['--json', 'docs', 'list', '--tenant', 'Acme']).stdout).documents as { id: number; title: string }[];
    const plan = docs.find((d) => d.title === 'Plan')!;
    expect(cli(data, ['docs', 'tag', '--tenant', 'Acme', String(plan.id), '--add', 'Ops', 'q2', '--remove', 'Q2']).stdout).toMatch(/: Ops$/m);
    const tagged = JSON.parse(cli(data, ['--json', 'search', '--tenant', 'Acme', 'heron', '--tag', 'ops']).stdout);
    expect(tagged.passages.map((p: { documentId: number }) => p.documentId)).toEqual([plan.id]);
    expect(tagged.passages[0].highlights.length).toBeGreaterThan(0);
    const byKind = JSON.parse(cli(data, ['--json', 'search', '--tenant', 'Acme', 'heron', '--kind', 'txt']).stdout);
    expect(byKind.passages.map((p: { title: string }) => p.title)).toEqual(['notes']);
    expect(cli(data, ['docs', 'show', '--tenant', 'Acme', String(plan.id)]).stdout).toContain('The heron project starts in May.');

    fs.rmSync(path.join(dir, 'notes.txt'));
    const second = cli(data, ['watch', '--tenant', 'Acme', '--once']);
    expect(second.stdout).toMatch(/1 file\(s\) removed from watched folders/);
    expect(JSON.parse(cli(data, ['--json', 'docs', 'list', '--tenant', 'Acme']).stdout).documents).toHaveLength(2);
    expect(cli(data, ['watch', '--tenant', 'Acme', '--confirm-removed']).stdout).toContain('Removed 1 document');
    expect(JSON.parse(cli(data, ['--json', 'docs', 'list', '--tenant', 'Acme', '--tag', 'ops']).stdout).documents).toHaveLength(1);

    // Watching: a file added while it runs is picked up; Ctrl-C ends it with exit 0.
    const child = spawn(process.execPath, [BIN, '--data-dir', data, 'watch', '--tenant', 'Acme', '--interval', '1'], { env: ENV });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await expect.poll(() => err, { timeout: 15_000 }).toContain('Ctrl-C stops');
    fs.writeFileSync(path.join(dir, 'late.txt'), 'A late heron file.');
    await expect.poll(() => err, { timeout: 15_000 }).toMatch(/1 added/);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
