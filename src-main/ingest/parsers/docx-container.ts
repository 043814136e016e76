import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { MAX_XML_DEPTH, MAX_XML_ELEMENTS, tooDeep, tooMany } from './limits.js';
import { ParseError, stoppedError, throwIfStopped } from './parse-error.js';

/** A Word document has a few dozen parts; tens of thousands is a zip built to exhaust us. */
const MAX_ENTRIES = 10_000;
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Compound File Binary: the container of legacy .doc files and of password-protected .docx files. */
const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
/** Office encryption stores the real (zip) package in a CFB stream of this name. */
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

/**
 * Proves a .docx is safe to hand to mammoth, which unzips it in memory with no size limit:
 * it must be a zip, not encrypted, contain word/document.xml, and expand to at most
 * `maxExpandedBytes`. The declared sizes in the central directory are checked first (cheap, and
 * enough for an honest bomb); then every entry is inflated once as a stream, counting bytes, so a
 * zip whose headers lie about its sizes is caught too, with memory bounded by the stream buffers.
 */
export async function inspectDocxContainer(bytes: Buffer, maxExpandedBytes: number, signal: AbortSignal | undefined): Promise<void> {
  if (CFB_MAGIC.equals(bytes.subarray(0, CFB_MAGIC.length))) {
    if (bytes.includes(ENCRYPTED_PACKAGE)) {
      throw new ParseError('ENCRYPTED', 'This Word document is password-protected. Remove the password and try again.');
    }
    throw new ParseError('UNSUPPORTED_TYPE', 'This is a legacy Word (.doc) file. Save it as .docx and try again.');
  }
  if (!ZIP_MAGIC.equals(bytes.subarray(0, ZIP_MAGIC.length))) {
    throw corrupt();
  }

  const zip = await openZip(bytes);
  try {
    const entries = await listEntries(zip, maxExpandedBytes, signal);
    if (!entries.some((e) => e.fileName === 'word/document.xml')) {
      throw new ParseError('CORRUPT', 'This file is a zip archive but not a Word document.');
    }
    let expanded = 0;
    for (const entry of entries) {
      throwIfStopped(signal);
      expanded += await inflatedSize(zip, entry, maxExpandedBytes - expanded, signal);
    }
  } finally {
    zip.close();
  }
}

function openZip(bytes: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) reject(new ParseError('CORRUPT', 'This Word document is damaged (unreadable zip).', { cause: err }));
      else resolve(zip);
    });
  });
}

function listEntries(zip: ZipFile, maxExpandedBytes: number, signal: AbortSignal | undefined): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let declared = 0;
    const fail = (err: ParseError) => {
      zip.removeAllListeners();
      zip.on('error', () => {}); // we have our answer; a late error must not become an uncaught one
      reject(err);
    };
    zip.on('entry', (entry: Entry) => {
      if (signal?.aborted) return fail(stoppedError(signal));
      entries.push(entry);
      declared += entry.uncompressedSize;
      if (entries.length > MAX_ENTRIES) return fail(bomb('it has too many parts'));
      if (declared > maxExpandedBytes) return fail(bomb('it would expand beyond the size limit'));
      if (entry.isEncrypted()) {
        return fail(new ParseError('ENCRYPTED', 'This Word document has encrypted parts.'));
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: unknown) => fail(new ParseError('CORRUPT', 'This Word document is damaged (unreadable zip).', { cause: err })));
    zip.readEntry();
  });
}

/** Inflates one entry without keeping it, and fails as soon as it passes `budget` bytes. */
async function inflatedSize(zip: ZipFile, entry: Entry, budget: number, signal: AbortSignal | undefined): Promise<number> {
  const stream = await new Promise<Readable>((resolve, reject) => {
    zip.openReadStream(entry, (err, s) => {
      if (err || !s) reject(new ParseError('CORRUPT', 'This Word document is damaged.', { cause: err }));
      else resolve(s);
    });
  });
  let size = 0;
  // mammoth builds each XML part as a tree and walks it recursively: its depth is measured here.
  const gauge = /\.(xml|rels)$/i.test(entry.fileName) ? new XmlDepthGauge(MAX_XML_DEPTH) : null;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > budget) throw bomb('it expands beyond the size limit');
      gauge?.feed(chunk as Buffer);
      if (signal?.aborted) throw stoppedError(signal);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof ParseError) throw err;
    // yauzl reports an entry that inflates to more (or fewer) bytes than its header says: a lie
    // in the headers is how a bomb would get past the size check above.
    const message = err instanceof Error ? err.message : '';
    if (/too many bytes|not enough bytes/i.test(message)) throw bomb('its parts are larger than they declare');
    throw new ParseError('CORRUPT', 'This Word document is damaged.', { cause: err });
  }
  return size;
}

function bomb(why: string): ParseError {
  return new ParseError('ZIP_BOMB', `This Word document was refused: ${why}.`);
}

function corrupt(): ParseError {
  return new ParseError('CORRUPT', 'This file is not a Word document (.docx files are zip archives).');
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;

/**
 * Element depth of an XML stream fed in pieces, without building anything: a tag opens a level,
 * a closing tag or `/>` ends one; comments, declarations and processing instructions do not count.
 * Elements are counted too (MAX_XML_ELEMENTS).
 */
export class XmlDepthGauge {
  #depth = 0;
  #elements = 0;
  #state: 'text' | 'open' | 'tag' | 'skip' = 'text';
  #quote = 0;
  #prev = 0;

  constructor(private readonly max: number) {}

  feed(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      switch (this.#state) {
        case 'text':
          if (c === LT) this.#state = 'open';
          break;
        case 'open':
          if (c === SLASH) {
            this.#depth--;
            this.#state = 'skip';
          } else if (c === 0x21 || c === 0x3f) {
            this.#state = 'skip';
          } else {
            if (++this.#depth > this.max) throw tooDeep('Word document parts');
            if (++this.#elements > MAX_XML_ELEMENTS) throw tooMany('elements');
            this.#state = 'tag';
          }
          break;
        case 'tag':
          if (this.#quote !== 0) {
            if (c === this.#quote) this.#quote = 0;
          } else if (c === 0x22 || c === 0x27) {
            this.#quote = c;
          } else if (c === GT) {
            if (this.#prev === SLASH) this.#depth--;
            this.#state = 'text';
          }
          break;
        case 'skip':
          if (c === GT) this.#state = 'text';
          break;
      }
      this.#prev = c;
    }
  }
}
