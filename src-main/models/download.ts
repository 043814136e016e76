// `models add URL`: streams a model into the library's .partial folder, resumes a broken
// download with an HTTP Range request, checks a given sha256, then checks the GGUF header before
// the file joins the library. The request leaves through egress/ (appEgress('model-download')).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { appEgress } from '../egress/download.js';
import { checkModelName, ModelLibrary, PARTIAL_DIR_NAME, type LibraryModel } from './library.js';

export interface DownloadProgress {
  receivedBytes: number;
  /** null when the server does not say. */
  totalBytes: number | null;
  /** True on the attempt that picked up a partial file. */
  resumed: boolean;
}

export interface DownloadOptions {
  name?: string;
  /** Hex sha256 the whole file must have. */
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Further attempts after a broken connection, each resuming where the last stopped. */
  retries?: number;
  /** Time allowed with no byte received. */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  model: LibraryModel;
  attempts: number;
  resumedFrom: number[];
  sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

function nameFromUrl(url: URL): string {
  const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).at(-1) ?? '');
  return last.toLowerCase().endsWith('.gguf') ? last : `${last || 'model'}.gguf`;
}

/** The partial file of one URL: a hash of the URL, so a second `add` of the same URL resumes it. */
function partialPath(library: ModelLibrary, url: URL): string {
  return path.join(library.dir, PARTIAL_DIR_NAME, `${crypto.createHash('sha256').update(url.href).digest('hex').slice(0, 32)}.part`);
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** One request: appends to `part` from its current size; returns when the body ended. */
async function attempt(url: URL, part: string, opts: DownloadOptions, startAt: number): Promise<{ total: number | null; complete: boolean }> {
  const egress = appEgress('model-download');
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idleMs);
  };
  let fd: number | null = null;
  try {
    arm();
    const res = await egress.fetch(url, { signal: controller.signal, headers: startAt > 0 ? { Range: `bytes=${startAt}-` } : {} });
    if (res.status === 416 && startAt > 0) {
      // The partial file already holds every byte (or more): start over cleanly.
      fs.truncateSync(part, 0);
      return { total: null, complete: false };
    }
    if (!res.ok) throw new BulkheadError('DOWNLOAD_FAILED', `the server answered HTTP ${res.status} for ${url.host}${url.pathname}`);
    let offset = startAt;
    let total: number | null = null;
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (res.status === 206 && range && Number(range[1]) === startAt) {
      total = range[3] === '*' ? null : Number(range[3]);
    } else {
      // The server ignored the Range header: the body is the whole file again.
      offset = 0;
      const length = res.headers.get('content-length');
      total = length && /^\d+$/.test(length) ? Number(length) : null;
    }
    fd = fs.openSync(part, offset === 0 ? 'w' : 'a', 0o600);
    if (!res.body) throw new BulkheadError('DOWNLOAD_FAILED', 'the server sent no body');
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arm();
      fs.writeSync(fd, value);
      offset += value.length;
      opts.onProgress?.({ receivedBytes: offset, totalBytes: total, resumed: startAt > 0 && offset > startAt });
    }
    fs.fsyncSync(fd);
    return { total, complete: total === null || offset === total };
  } catch (err) {
    if (isBulkheadError(err)) throw err;
    if (opts.signal?.aborted) throw new BulkheadError('CANCELLED', 'the download was cancelled; run the same command again to resume it', { cause: err });
    throw new BulkheadError('DOWNLOAD_FAILED', `the download from ${url.host} broke off (${(err as Error).message.slice(0, 160)})`, { cause: err });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    if (fd !== null) fs.closeSync(fd);
  }
}

async function hashFile(file: string): Promise<string> {
  return ModelLibrary.fileHash(file);
}

/** Downloads a model into the library. A broken download stays in .partial and resumes next time. */
export async function downloadModel(library: ModelLibrary, rawUrl: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const url = appEgress('model-download').check(rawUrl);
  const name = checkModelName(opts.name ?? nameFromUrl(url));
  const expected = opts.sha256?.trim().toLowerCase();
  if (expected !== undefined && !SHA256.test(expected)) throw new BulkheadError('INPUT_INVALID', '--sha256 must be 64 hex digits');
  library.ensureDir();
  if (fs.existsSync(path.join(library.dir, name)))
    throw new BulkheadError('FILE_EXISTS', `the library already has a model named "${name}"; remove it first or choose --name`);
  fs.mkdirSync(path.join(library.dir, PARTIAL_DIR_NAME), { recursive: true, mode: 0o700 });
  const part = partialPath(library, url);
  const retries = opts.retries ?? 3;
  const resumedFrom: number[] = [];
  let attempts = 0;
  for (;;) {
    attempts++;
    const startAt = sizeOf(part);
    if (startAt > 0) resumedFrom.push(startAt);
    try {
      const { complete } = await attempt(url, part, opts, startAt);
      if (complete) break;
      if (attempts > retries) throw new BulkheadError('DOWNLOAD_FAILED', `the download from ${url.host} ended early; run the same command again to resume it`);
    } catch (err) {
      if (!isBulkheadError(err, 'DOWNLOAD_FAILED') || attempts > retries) throw err;
    }
  }
  const sha256 = await hashFile(part);
  if (expected !== undefined && sha256 !== expected) {
    fs.rmSync(part, { force: true });
    throw new BulkheadError('CHECKSUM_MISMATCH', `the downloaded file's sha256 is ${sha256}, not the ${expected} given; nothing was added`);
  }
  try {
    const model = await library.adopt(part, name);
    return { model, attempts, resumedFrom, sha256 };
  } catch (err) {
    // Not a usable model: a resumable partial of it is of no use either.
    if (isBulkheadError(err, 'MODEL_INVALID') || isBulkheadError(err, 'MODEL_TOO_LARGE')) fs.rmSync(part, { force: true });
    throw err;
  }
}
