import { create } from 'zustand';
import type { FileResult, IngestSummary } from '../../src-shared/contract.js';
import { messageOf, stream, upload, type RunningStream } from '../client.js';
import { onTenantReset } from './reset.js';
import { loadPage } from './library.js';
import { reloadOpenTenant, stillCurrent, useSession } from './session.js';

export interface FileJob {
  key: string;
  name: string;
  bytes: number;
  uploadId: string | null;
  phase: 'uploading' | 'queued' | 'reading' | 'indexing' | 'done' | 'failed';
  progress: number;
  result: FileResult | null;
  error: string | null;
}

interface IngestState {
  jobs: FileJob[];
  running: boolean;
  summary: IngestSummary | null;
  error: string | null;
}

const initial = (): IngestState => ({ jobs: [], running: false, summary: null, error: null });
export const useIngest = create<IngestState>()(initial);

let current: RunningStream<IngestSummary> | null = null;
onTenantReset(() => {
  current?.stop();
  current = null;
  useIngest.setState(initial());
});

function patch(key: string, change: Partial<FileJob>): void {
  useIngest.setState((s) => ({ jobs: s.jobs.map((j) => (j.key === key ? { ...j, ...change } : j)) }));
}

/** Uploads the chosen files, then ingests them in one run with per-file progress. */
export async function ingestFiles(files: readonly File[]): Promise<void> {
  if (files.length === 0 || useIngest.getState().running) return;
  const generation = useSession.getState().generation;
  const jobs: FileJob[] = files.map((f, i) => ({
    key: `${Date.now()}-${i}`,
    name: f.name,
    bytes: f.size,
    uploadId: null,
    phase: 'uploading',
    progress: 0,
    result: null,
    error: null,
  }));
  useIngest.setState({ jobs, running: true, summary: null, error: null });
  const byUpload = new Map<string, string>();
  for (const [i, file] of files.entries()) {
    const job = jobs[i]!;
    try {
      const u = await upload(file);
      if (!stillCurrent(generation)) return;
      byUpload.set(u.uploadId, job.key);
      patch(job.key, { uploadId: u.uploadId, phase: 'queued', progress: 0.05 });
    } catch (err) {
      if (!stillCurrent(generation)) return;
      patch(job.key, { phase: 'failed', error: messageOf(err) });
    }
  }
  if (byUpload.size === 0) {
    useIngest.setState({ running: false });
    return;
  }
  current = stream('ingest.run', { uploadIds: [...byUpload.keys()] }, (e) => {
    if (!stillCurrent(generation)) return;
    const key = byUpload.get(e.uploadId);
    if (!key) return;
    if (e.type === 'file-start') patch(key, { phase: 'reading', progress: 0.1 });
    else if (e.type === 'file-progress') patch(key, { phase: 'indexing', progress: 0.1 + 0.85 * (e.chunksDone / Math.max(1, e.chunksTotal)) });
    else patch(key, { phase: e.result.status === 'failed' ? 'failed' : 'done', progress: 1, result: e.result, error: e.result.reason ?? null });
  });
  try {
    const summary = await current.result;
    if (!stillCurrent(generation)) return;
    useIngest.setState({ summary, running: false });
  } catch (err) {
    if (!stillCurrent(generation)) return;
    useIngest.setState({ running: false, error: messageOf(err) });
  } finally {
    current = null;
  }
  await Promise.all([loadPage(), reloadOpenTenant()]);
}

export function stopIngest(): void {
  current?.stop();
}

export function clearIngest(): void {
  if (!useIngest.getState().running) useIngest.setState(initial());
}
