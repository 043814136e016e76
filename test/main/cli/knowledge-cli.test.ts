import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIMILAR_CORPUS } from '../../helpers/similar-corpus.js';
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

  it('tunes the offline embedder to the tenant at the end of an ingest of enough passages; embedder tune does it on demand', () => {
    const data = tempDir();
    expect(cli(data, ['init']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Acme']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Small']).code).toBe(0);
    const docs = tempDir();
    // 520 one-chunk notes on 20 subjects, each with its own made-up words.
    const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'pe', 'dri', 'zan'];
    for (let i = 0; i < 520; i++) {
      const s = i % 20;
      const words = Array.from(
        { length: 12 },
        (_, j) => `${syllables[s % 10]}${syllables[Math.floor(s / 10)]}${syllables[(i * 7 + j * 3) % 10]}${syllables[(i + j) % 10]}`,
      );
      fs.writeFileSync(path.join(docs, `note-${i}.txt`), `${words.join(' ')}.\n`);
    }
    const ingest = cli(data, ['ingest', '--tenant', 'Acme', docs]);
    expect(ingest.code).toBe(0);
    expect(ingest.stdout).toMatch(/vectors tuned to this tenant's vocabulary \(520 chunks\)/);
    const shown = JSON.parse(cli(data, ['--json', 'embedder', 'show', '--tenant', 'Acme']).stdout);
    expect(shown).toMatchObject({ config: { kind: 'terms', chunks: 520 }, index: { embedderId: `terms-v1:${shown.config.space}`, dimension: 384 + 64 } });
    expect(JSON.parse(cli(data, ['--json', 'search', '--tenant', 'Acme', 'kamikalo']).stdout).mode).toBe('hybrid');
    // Asking for the offline embedder again keeps the tuned one; tuning again learns the same space.
    expect(cli(data, ['embedder', 'set', '--tenant', 'Acme', 'hash']).stdout).toMatch(/Already the offline embedder, tuned on 520 chunks/);
    const again = cli(data, ['--json', 'embedder', 'tune', '--tenant', 'Acme']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'tuned', config: shown.config });
    // Too few chunks, or another embedder: a usage error that says why.
    const small = cli(data, ['embedder', 'tune', '--tenant', 'Small']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/at least 500 chunks/);
    expect(cli(data, ['embedder', 'set', '--tenant', 'Acme', 'terms']).code).toBe(2);
  });

  it('search --like finds the passages like one passage, its own document left out; --exclude-doc leaves documents out', () => {
    const data = tempDir();
    expect(cli(data, ['init']).code).toBe(0);
    expect(cli(data, ['tenant', 'create', 'Apiary']).code).toBe(0);
    const docs = tempDir();
    for (const [name, text] of Object.entries(SIMILAR_CORPUS)) fs.writeFileSync(path.join(docs, name), text);
    expect(cli(data, ['ingest', '--tenant', 'Apiary', docs]).code).toBe(0);
    const file = (p: { sourcePath: string }): string => path.basename(p.sourcePath);
    const varroa = JSON.parse(cli(data, ['--json', 'search', '--tenant', 'Apiary', 'smoker crown board mite drop']).stdout);
    const passage = varroa.passages[0];
    expect(file(passage)).toBe('hive-inspection.md');

    const like = cli(data, ['--json', 'search', '--tenant', 'Apiary', '--like', String(passage.chunkId)]);
    expect(like.code).toBe(0);
    const similar = JSON.parse(like.stdout);
    expect(similar.query).toBe(passage.text.trim());
    expect(similar.passages.length).toBeGreaterThan(0);
    expect(similar.passages.filter((p: { documentId: number }) => p.documentId === passage.documentId)).toEqual([]);
    expect(file(similar.passages[0])).toBe('swarm-control.md');

    const swarm = similar.passages[0].documentId;
    const out = JSON.parse(
      cli(data, ['--json', 'search', '--tenant', 'Apiary', '--exclude-doc', String(passage.documentId), String(swarm), '--', 'bees brood varroa']).stdout,
    );
    expect(out.passages.map(file).filter((f: string) => f === 'hive-inspection.md' || f === 'swarm-control.md')).toEqual([]);
    // With a filter too, and in text form.
    const text = cli(data, ['search', '--tenant', 'Apiary', '--kind', 'md', '--like', String(passage.chunkId)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^1\. Swarm control for beekeepers/);
    expect(text.stdout).not.toMatch(/hive-inspection\.md/);

    // Refused at the boundary, naming what was wrong.
    const both = cli(data, ['search', '--tenant', 'Apiary', '--like', String(passage.chunkId), 'bees']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either a query or --like/);
    expect(cli(data, ['search', '--tenant', 'Apiary', '--like', '0']).code).toBe(2);
    expect(cli(data, ['search', '--tenant', 'Apiary', '--exclude-doc', 'x', '--', 'bees']).stderr).toMatch(/--exclude-doc is a whole number/);
    expect(cli(data, ['search', '--tenant', 'Apiary']).code).toBe(2);
    expect(cli(data, ['search', '--tenant', 'Apiary', '--like', '999999']).code).toBe(4);
  });

  it('names the tenant it needs and refuses a missing one', () => {
    const data = tempDir();
    cli(data, ['init']);
    expect(cli(data, ['search', 'x']).code).toBe(2);
    expect(cli(data, ['search', '--tenant', 'Nobody', 'x']).code).toBe(4);
  });
});
