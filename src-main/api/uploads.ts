import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MAX_UPLOAD_BYTES, type Upload } from '../../src-shared/contract.js';
import { neutraliseBidi } from '../../src-shared/display-text.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { newStagingDir, sweepStagedUploads } from '../vault/staging.js';

interface StoredUpload extends Upload {
  /** The tenant that was open when the file arrived: it can be ingested into that one only. */
  tenantId: string;
  /** The sealed copy on disk, named by its upload id only (a file name is tenant data too). */
  sealed: string;
  /** The name the ingest pipeline knows it by (never a path on disk). */
  file: string;
  key: Buffer;
  iv: Buffer;
  tag: Buffer;
}

/**
 * Files the user hands the console, held just long enough to ingest them. Each is sealed as it
 * arrives (AES-256-GCM under a random key held in this process's memory only) into an
 * owner-only folder of this store (see vault/staging.ts), and opened into memory for ingestion:
 * no plaintext byte or file name is ever on disk, and what a crash leaves is unreadable and
 * removed at the next unlock. Deleted after ingestion, on discard, on a tenant switch or lock.
 */
export class UploadStore {
  readonly #dataDir: string;
  #dir: string | null = null;
  readonly #items = new Map<string, StoredUpload>();

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Removes this store's files and whatever a crashed run left behind. */
  sweep(): void {
    this.discardAll();
    if (this.#dir) fs.rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
    sweepStagedUploads(this.#dataDir);
  }

  async add(tenantId: string, name: string, bytes: Buffer | AsyncIterable<Buffer>): Promise<Upload> {
    const safe = safeFileName(name);
    const uploadId = `u_${crypto.randomBytes(16).toString('hex')}`;
    const sealed = path.join(this.#ensureDir(), `${uploadId}.sealed`);
    const key = crypto.randomBytes(32);
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(uploadId, 'utf8'));
    let size = 0;
    const fd = fs.openSync(sealed, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      for await (const chunk of Buffer.isBuffer(bytes) ? [bytes] : bytes) {
        size += chunk.length;
        if (size > MAX_UPLOAD_BYTES)
          throw new BulkheadError('INPUT_INVALID', `"${safe}" is larger than the ${MAX_UPLOAD_BYTES / 1048576} MiB limit for one file`);
        fs.writeSync(fd, cipher.update(chunk));
      }
      fs.writeSync(fd, cipher.final());
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(sealed, { force: true });
      key.fill(0);
      throw err;
    }
    fs.closeSync(fd);
    const file = `${uploadId}/${safe}`;
    this.#items.set(uploadId, { uploadId, name: safe, bytes: size, tenantId, sealed, file, key, iv, tag: cipher.getAuthTag() });
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

  /** What ingestPaths needs to read these uploads from their sealed copies, in memory. */
  ingestInputs(uploads: readonly StoredUpload[]): {
    inputs: string[];
    sourcePathOf: (file: string) => string;
    staged: { bytes(file: string): number; read(file: string): Promise<Buffer> };
  } {
    const byFile = new Map(uploads.map((u) => [u.file, u]));
    const get = (file: string): StoredUpload => {
      const u = byFile.get(file);
      if (!u || !this.#items.has(u.uploadId)) throw new BulkheadError('INPUT_INVALID', 'that file is no longer waiting to be added; choose it again');
      return u;
    };
    return {
      inputs: [...byFile.keys()],
      sourcePathOf: (file) => byFile.get(file)?.name ?? 'upload',
      staged: { bytes: (file) => get(file).bytes, read: async (file) => open(get(file)) },
    };
  }

  discard(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) {
      const u = this.#items.get(id);
      if (!u) continue;
      this.#items.delete(id);
      fs.rmSync(u.sealed, { force: true });
      u.key.fill(0);
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

  #ensureDir(): string {
    if (!this.#dir || !fs.existsSync(this.#dir)) this.#dir = newStagingDir(this.#dataDir);
    return this.#dir;
  }
}

function open(u: StoredUpload): Buffer {
  const decipher = crypto.createDecipheriv('aes-256-gcm', u.key, u.iv);
  decipher.setAAD(Buffer.from(u.uploadId, 'utf8'));
  decipher.setAuthTag(u.tag);
  try {
    return Buffer.concat([decipher.update(fs.readFileSync(u.sealed)), decipher.final()]);
  } catch {
    throw new BulkheadError('INPUT_INVALID', `"${u.name}" was altered while it waited to be added; choose it again`);
  }
}

/** The browser's file name, reduced to one safe path segment. */
export function safeFileName(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  // Controls (C0, DEL, C1) and bidi controls: "invoice\u202Efdp.txt" would show as "invoicetxt.pdf".
  const cleaned = neutraliseBidi(base.replace(/[\u0000-\u001f\u007f-\u009f]/g, ''))
    .trim()
    .slice(-200);
  if (cleaned === '' || cleaned === '.' || cleaned === '..') throw new BulkheadError('INPUT_INVALID', 'a file needs a name');
  return cleaned;
}
