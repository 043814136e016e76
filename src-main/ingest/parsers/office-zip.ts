// The zip container of .pptx, .xlsx and .odt files, read under caps: a zip bomb (declared or
// lying headers), too many parts, encryption and legacy binary formats are refused with a code.
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ParseError, stoppedError, throwIfStopped } from './parse-error.js';

const MAX_ENTRIES = 10_000;
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

export interface OfficeZip {
  /** Entry names in the archive. */
  names: ReadonlySet<string>;
  /** The inflated bytes of a wanted entry (undefined when absent or not wanted). */
  get(name: string): Buffer | undefined;
}

/**
 * Opens `bytes` as an office zip and inflates the entries `want` selects, all of them counted
 * against `maxExpandedBytes` as they stream (so headers that lie about sizes are caught too).
 * `kind` names the format in messages ("PowerPoint presentation").
 */
export async function readOfficeZip(
  bytes: Buffer,
  kind: string,
  want: (name: string) => boolean,
  maxExpandedBytes: number,
  signal: AbortSignal | undefined,
): Promise<OfficeZip> {
  if (CFB_MAGIC.equals(bytes.subarray(0, CFB_MAGIC.length))) {
    if (bytes.includes(ENCRYPTED_PACKAGE)) throw new ParseError('ENCRYPTED', `This ${kind} is password-protected. Remove the password and try again.`);
    throw new ParseError('UNSUPPORTED_TYPE', `This is a legacy binary ${kind}. Save it in the current format and try again.`);
  }
  if (!ZIP_MAGIC.equals(bytes.subarray(0, ZIP_MAGIC.length))) throw new ParseError('CORRUPT', `This file is not a ${kind} (those are zip archives).`);
  const zip = await new Promise<ZipFile>((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, z) => {
      if (err || !z) reject(new ParseError('CORRUPT', `This ${kind} is damaged (unreadable zip).`, { cause: err }));
      else resolve(z);
    });
  });
  try {
    const entries = await listEntries(zip, kind, maxExpandedBytes, signal);
    const files = new Map<string, Buffer>();
    let budget = maxExpandedBytes;
    for (const entry of entries) {
      throwIfStopped(signal);
      if (!want(entry.fileName)) continue;
      const data = await inflate(zip, entry, kind, budget, signal);
      budget -= data.length;
      files.set(entry.fileName, data);
    }
    return { names: new Set(entries.map((e) => e.fileName)), get: (name) => files.get(name) };
  } finally {
    zip.close();
  }
}

function listEntries(zip: ZipFile, kind: string, maxExpandedBytes: number, signal: AbortSignal | undefined): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let declared = 0;
    const fail = (err: ParseError): void => {
      zip.removeAllListeners();
      zip.on('error', () => undefined);
      reject(err);
    };
    zip.on('entry', (entry: Entry) => {
      if (signal?.aborted) return fail(stoppedError(signal));
      entries.push(entry);
      declared += entry.uncompressedSize;
      if (entries.length > MAX_ENTRIES) return fail(bomb(kind, 'it has too many parts'));
      if (declared > maxExpandedBytes) return fail(bomb(kind, 'it would expand beyond the size limit'));
      if (entry.isEncrypted()) return fail(new ParseError('ENCRYPTED', `This ${kind} has encrypted parts.`));
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: unknown) => fail(new ParseError('CORRUPT', `This ${kind} is damaged (unreadable zip).`, { cause: err })));
    zip.readEntry();
  });
}

async function inflate(zip: ZipFile, entry: Entry, kind: string, budget: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const stream = await new Promise<Readable>((resolve, reject) => {
    zip.openReadStream(entry, (err, s) => (err || !s ? reject(new ParseError('CORRUPT', `This ${kind} is damaged.`, { cause: err })) : resolve(s)));
  });
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > budget) throw bomb(kind, 'it expands beyond the size limit');
      if (signal?.aborted) throw stoppedError(signal);
      parts.push(chunk as Buffer);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof ParseError) throw err;
    const message = err instanceof Error ? err.message : '';
    if (/too many bytes|not enough bytes/i.test(message)) throw bomb(kind, 'its parts are larger than they declare');
    throw new ParseError('CORRUPT', `This ${kind} is damaged.`, { cause: err });
  }
  return Buffer.concat(parts);
}

function bomb(kind: string, why: string): ParseError {
  return new ParseError('ZIP_BOMB', `This ${kind} was refused: ${why}.`);
}
