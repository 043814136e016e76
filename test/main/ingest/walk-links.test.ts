import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { listDocuments } from '../../../src-main/ingest/documents.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { walkInputs } from '../../../src-main/ingest/walk.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { freshVault, tempDir } from '../../helpers/vault.js';

/**
 * Beta's archive, holding a file link and a folder link into Acme's folder, plus a link that
 * stays inside the archive. Real symbolic links on a real file system.
 */
function archiveWithLinks(): { archive: string; acme: string } {
  const root = fs.realpathSync(tempDir('bulkhead-links-'));
  const acme = path.join(root, 'acme');
  const archive = path.join(root, 'archive');
  fs.mkdirSync(path.join(acme, 'board'), { recursive: true });
  fs.mkdirSync(path.join(archive, 'notes'), { recursive: true });
  fs.writeFileSync(path.join(acme, 'plan.md'), '# Acme plan\n\nAcme will acquire Quillfeather Ltd in March.\n');
  fs.writeFileSync(path.join(acme, 'board', 'minutes.txt'), 'Acme board minutes: the Quillfeather price is nine million.');
  fs.writeFileSync(path.join(archive, 'notes', 'beta.txt'), 'Beta notes: the Harrowgate launch moves to June.');
  fs.symlinkSync(path.join(acme, 'plan.md'), path.join(archive, 'readme.md'));
  fs.symlinkSync(path.join(acme, 'board'), path.join(archive, 'shared'));
  fs.symlinkSync(path.join(archive, 'notes', 'beta.txt'), path.join(archive, 'alias.txt'));
  return { archive, acme };
}

describe('symbolic links in an ingested folder', () => {
  it('links to a file or a folder outside the folder given are refused per file as OUTSIDE_FOLDER', () => {
    const { archive } = archiveWithLinks();
    const entries = [...walkInputs([archive])];
    const problems = entries.filter((e) => e.kind === 'problem');
    expect(problems.map((p) => [path.basename(p.path), p.kind === 'problem' && p.code]).sort()).toEqual([
      ['readme.md', 'OUTSIDE_FOLDER'],
      ['shared', 'OUTSIDE_FOLDER'],
    ]);
    // The link inside the archive is the same file as notes/beta.txt: taken once, by its real path.
    const files = entries.flatMap((e) => (e.kind === 'file' ? [e.realPath] : []));
    expect(files).toEqual([path.join(archive, 'notes', 'beta.txt')]);
  });

  it('with followLinks the outside targets are read, each recorded under its real path', () => {
    const { archive, acme } = archiveWithLinks();
    const files = [...walkInputs([archive], { followLinks: true })].flatMap((e) => (e.kind === 'file' ? [e.realPath] : []));
    expect(files.sort()).toEqual([path.join(acme, 'board', 'minutes.txt'), path.join(acme, 'plan.md'), path.join(archive, 'notes', 'beta.txt')].sort());
  });

  it("ingesting Beta's archive keeps Acme's plan out of Beta, and Beta's documents record their real paths", async () => {
    const { archive } = archiveWithLinks();
    const vault = await freshVault();
    const beta = vault.openSession().open(vault.createTenant('Beta').id);
    const embedder = new HashedEmbedder();
    const summary = await ingestPaths(beta, [archive], { embedder });
    expect(summary).toMatchObject({ added: 1, failed: 2 });
    expect(summary.files.filter((f) => f.status === 'failed').map((f) => f.code)).toEqual(['OUTSIDE_FOLDER', 'OUTSIDE_FOLDER']);
    expect(listDocuments(beta, { limit: 10, offset: 0 }).map((d) => d.sourcePath)).toEqual([path.join(archive, 'notes', 'beta.txt')]);
    const hits = await searchKnowledge(beta, 'Quillfeather acquire price', { k: 5 });
    expect(hits.passages.filter((p) => p.text.includes('Quillfeather'))).toEqual([]);
  });

  it('a file named through a link is taken as given, and recorded under its real path', async () => {
    const { archive } = archiveWithLinks();
    const vault = await freshVault();
    const beta = vault.openSession().open(vault.createTenant('Beta').id);
    await ingestPaths(beta, [path.join(archive, 'alias.txt')], { embedder: new HashedEmbedder() });
    expect(listDocuments(beta, { limit: 10, offset: 0 }).map((d) => d.sourcePath)).toEqual([path.join(archive, 'notes', 'beta.txt')]);
  });
});
