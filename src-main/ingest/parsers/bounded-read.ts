import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ParseError, throwIfStopped } from './parse-error.js';

const READ_STEP = 4 * 1024 * 1024;

/**
 * Reads a whole regular file into memory, but never more than `maxBytes`: the size on disk is
 * checked before anything is read, and a file that grows while we read is still cut off.
 * Files above the limit are refused rather than streamed, because every parser we use (pdf.js,
 * mammoth, JSON.parse, marked) needs the whole input at once anyway; the limit is the memory bound.
 */
export async function readBounded(path: string, maxBytes: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const before = await statOrThrow(path);
  refuseIfNotReadable(before, maxBytes);
  throwIfStopped(signal);

  // O_NONBLOCK so that a FIFO swapped in after the stat cannot hang a thread-pool thread in open().
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((err: unknown) => {
    throw fsError(err);
  });
  try {
    const opened = await handle.stat();
    refuseIfNotReadable(opened, maxBytes);
    const bytes = Buffer.allocUnsafe(opened.size);
    let filled = 0;
    while (filled < bytes.length) {
      throwIfStopped(signal);
      const { bytesRead } = await handle.read(bytes, filled, Math.min(READ_STEP, bytes.length - filled), filled);
      if (bytesRead === 0) break; // the file shrank since fstat
      filled += bytesRead;
    }
    // One byte past the size we were promised means the file is growing: refuse, do not chase it.
    const probe = Buffer.alloc(1);
    const { bytesRead: extra } = await handle.read(probe, 0, 1, filled);
    if (extra > 0) throw tooLarge(maxBytes);
    return bytes.subarray(0, filled);
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw fsError(err);
  } finally {
    await handle.close();
  }
}

async function statOrThrow(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    throw fsError(err);
  }
}

function refuseIfNotReadable(info: Stats, maxBytes: number): void {
  if (!info.isFile()) throw new ParseError('UNREADABLE', 'This is not a regular file.');
  if (info.size > maxBytes) throw tooLarge(maxBytes);
  if (info.size === 0) throw new ParseError('EMPTY', 'This file is empty.');
}

function tooLarge(maxBytes: number): ParseError {
  return new ParseError('TOO_LARGE', `This file is larger than the limit of ${formatBytes(maxBytes)}.`);
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MiB` : `${Math.round(n / 1024)} KiB`;
}

function fsError(err: unknown): ParseError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ParseError('NOT_FOUND', 'This file does not exist.', { cause: err });
  }
  return new ParseError('UNREADABLE', 'This file could not be read.', { cause: err });
}
