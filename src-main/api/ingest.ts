import type { IngestEvent, IngestSummary } from '../../src-shared/contract.js';
import { createEmbedder } from '../embed/index.js';
import { ingestPaths } from '../ingest/pipeline.js';
import { tuneWhenDue } from '../retrieval/term-space-job.js';
import { readEmbedderConfig } from '../embed/settings.js';
import type { ConsoleSession } from './session.js';

/**
 * An upload's identity. A browser tells us a file's name and nothing of where it came from, so
 * the name alone cannot say that two files are one document: two different "notes.txt" are two
 * documents, and the same bytes under the same name again are the same one ("unchanged").
 * Nothing stored is replaced by an upload; the user deletes the version they no longer want.
 */
export function uploadSource(name: string, sha256: string): string {
  return `upload:${sha256.slice(0, 16)}/${name}`;
}

/**
 * Ingests uploaded files into the tenant that was open when they were uploaded, reporting per
 * file, then deletes the temporary copies whatever happened. A switch or lock (the scope's
 * signal) or the caller's stop cancels between documents.
 */
export async function runIngest(
  s: ConsoleSession,
  input: { uploadIds: string[]; tags: string[] },
  emit: (e: IngestEvent) => void,
  stop: AbortSignal,
): Promise<IngestSummary> {
  const { handle, signal: scope } = s.scope();
  const uploads = s.uploads.take(handle.id, input.uploadIds);
  const byFile = new Map(uploads.map((u) => [u.file, u]));
  const staged = s.uploads.ingestInputs(uploads);
  const started = new Map<number, (typeof uploads)[number] | undefined>();
  const nameOfSource = new Map<string, string>();
  const signal = AbortSignal.any([scope, stop]);
  try {
    const summary = await ingestPaths(handle, staged.inputs, {
      embedder: createEmbedder(handle, readEmbedderConfig(handle)),
      tags: input.tags,
      signal,
      staged: staged.staged,
      sourcePathOf: (file, sha256) => {
        const name = staged.sourcePathOf(file);
        if (sha256 === undefined) return name;
        const source = uploadSource(name, sha256);
        nameOfSource.set(source, name);
        return source;
      },
      onEvent: (e) => {
        if (e.type === 'scanned') return;
        if (e.type === 'file-start') started.set(e.index, byFile.get(e.path));
        const u = e.type === 'file-done' ? (started.get(e.index) ?? byFile.get(e.result.path)) : byFile.get(e.path);
        if (!u) return;
        if (e.type === 'file-start') emit({ type: 'file-start', uploadId: u.uploadId, name: u.name });
        else if (e.type === 'file-progress') emit({ type: 'file-progress', uploadId: u.uploadId, chunksDone: e.chunksDone, chunksTotal: e.chunksTotal });
        else emit({ type: 'file-done', uploadId: u.uploadId, result: { ...e.result, name: u.name } });
      },
    });
    // Enough passages now for the offline embedder to learn this client's vocabulary: it starts
    // in the background (term-space-job.ts), as the next search would start it.
    if (summary.added + summary.replaced > 0) tuneWhenDue(handle);
    return {
      added: summary.added,
      unchanged: summary.unchanged,
      replaced: summary.replaced,
      failed: summary.failed,
      chunks: summary.chunks,
      cancelled: summary.cancelled,
      files: summary.files.map(({ path, ...rest }) => ({ ...rest, name: nameOfSource.get(path) ?? byFile.get(path)?.name ?? path })),
    };
  } finally {
    s.uploads.discard(input.uploadIds);
  }
}
