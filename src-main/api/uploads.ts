import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_UPLOAD_BYTES, type Upload } from '../../src-shared/contract.js';
import { neutraliseBidi } from '../../src-shared/display-text.js';
import { BulkheadError } from '../../src-shared/errors.js';

interface StoredUpload extends Upload {
  /** The tenant that was open when the file arrived: it can be ingested into that one only. */
  tenantId: string;
  file: string;
}

const UPLOADS_DIR = 'uploads';

/**
 * Files the user hands the console, held just long enough to ingest them: in an owner-only
 * (0700) folder under the data dir, one random sub-folder per file (keeping its real name, from
 * which the parser takes the format and fallback title), deleted after ingestion, on discard, on
 * a tenant switch or lock, and at the next launch if the process died.
 */
export class UploadStore {
  readonly root: string;
  readonly #items = new Map<string, StoredUpload>();

  constructor(dataDir: string) {
    this.root = path.join(dataDir, UPLOADS_DIR);
  }

  /** Removes whatever a crashed run left behind. */
  sweep(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
    this.#items.clear();
  }

  async add(tenantId: string, name: string, bytes: Buffer | AsyncIterable<Buffer>): Promise<Upload> {
    const safe = safeFileName(name);
    const uploadId = `u_${crypto.randomBytes(16).toString('hex')}`;
    const dir = path.join(this.#ensureRoot(), uploadId);
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, safe);
    let size = 0;
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      for await (const chunk of Buffer.isBuffer(bytes) ? [bytes] : bytes) {
        size += chunk.length;
        if (size > MAX_UPLOAD_BYTES) throw new BulkheadError('INPUT_INVALID', `"${safe}" is larger than the ${MAX_UPLOAD_BYTES / 1048576} MiB limit for one file`);
        fs.writeSync(fd, chunk);
      }
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    fs.closeSync(fd);
    const upload: StoredUpload = { uploadId, name: safe, bytes: size, tenantId, file };
    this.#items.set(uploadId, upload);
    return { uploadId, name: safe, bytes: size };
  }

  /** The uploads to ingest into `tenantId`; any unknown id or one of another tenant is refused. */
  take(tenantId: string, ids: readonly string[]): StoredUpload[] {
    return ids.map((id) => {
      const u = this.#items.get(id);
      if (!u || u.tenantId !== tenantId) throw new BulkheadError('INPUT_INVALID', 'that file is no longer waiting to be added; choose it again');
      return u;
    });
  }

  discard(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) {
      const u = this.#items.get(id);
      if (!u) continue;
      this.#items.delete(id);
      fs.rmSync(path.dirname(u.file), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  discardAll(): void {
    this.discard([...this.#items.keys()]);
  }

  get pending(): number {
    return this.#items.size;
  }

  #ensureRoot(): string {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    if (fs.lstatSync(this.root).isSymbolicLink()) throw new BulkheadError('UNSAFE_PATH', 'the uploads folder is a symbolic link');
    fs.chmodSync(this.root, 0o700);
    return this.root;
  }
}

/** The browser's file name, reduced to one safe path segment. */
export function safeFileName(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  // Controls (C0, DEL, C1) and bidi controls: "invoice\u202Efdp.txt" would show as "invoicetxt.pdf".
  const cleaned = neutraliseBidi(base.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')).trim().slice(-200);
  if (cleaned === '' || cleaned === '.' || cleaned === '..') throw new BulkheadError('INPUT_INVALID', 'a file needs a name');
  return cleaned;
}
