import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as CFB from 'cfb';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { DEFAULT_MAX_BYTES, ParseError, parseFile, type ParseErrorCode, type ParseOptions } from '../../../src-main/ingest/parsers/index.js';
import { DOCUMENT_XML, makeDocx, makePdf, writeZip, zeros } from '../../helpers/documents.js';

const MiB = 1024 * 1024;
const opts: ParseOptions = { maxBytes: DEFAULT_MAX_BYTES };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-parsers-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Resolves to the ParseError code, and fails the test if the parse succeeds or throws anything else. */
async function refusal(promise: Promise<unknown>): Promise<ParseErrorCode> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ParseError) return err.code;
    throw err;
  }
  throw new Error('expected a ParseError, but the document was accepted');
}

// ---- fixture makers -------------------------------------------------------------------------

/** Rewrites the uncompressed size that both zip headers declare for `name`. */
function lieAboutSize(zip: Buffer, name: string, declared: number): void {
  const fileName = Buffer.from(name);
  let patched = 0;
  for (let at = zip.indexOf(fileName); at !== -1; at = zip.indexOf(fileName, at + 1)) {
    if (zip.readUInt32LE(at - 46) === 0x02014b50) {
      zip.writeUInt32LE(declared, at - 46 + 24); // central directory header
      patched++;
    } else if (zip.readUInt32LE(at - 30) === 0x04034b50) {
      zip.writeUInt32LE(declared, at - 30 + 22); // local file header
      patched++;
    }
  }
  if (patched !== 2) throw new Error(`expected to patch 2 headers, patched ${patched}`);
}

// ---- text formats ---------------------------------------------------------------------------

describe('plain text', () => {
  it('a .txt file becomes one section holding its text, with CRLF normalised to LF', async () => {
    const path = await fixture('notes.txt', 'First line.\r\nSecond line.\r\n\r\nNew paragraph.\r\n');
    const doc = await parseFile(path, opts);
    expect(doc).toEqual({
      title: 'notes',
      format: 'txt',
      sections: [{ text: 'First line.\nSecond line.\n\nNew paragraph.' }],
    });
  });

  it('a UTF-16 file with a byte-order mark is decoded, not refused as binary', async () => {
    const body = Buffer.from('Grüße aus Köln', 'utf16le');
    const path = await fixture('utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), body]));
    const doc = await parseFile(path, opts);
    expect(doc.sections[0]?.text).toBe('Grüße aus Köln');
  });

  it('a binary file named .txt is refused as BINARY', async () => {
    // The first 64 KiB of the node executable: a real binary, not a synthetic one.
    const executable = (await readFile(process.execPath)).subarray(0, 64 * 1024);
    expect(await refusal(parseFile(await fixture('program.txt', executable), opts))).toBe('BINARY');
  });

  it('random bytes named .txt are refused as BINARY', async () => {
    expect(await refusal(parseFile(await fixture('random.txt', randomBytes(16 * 1024)), opts))).toBe('BINARY');
  });

  it('text in another encoding (mostly invalid UTF-8) is refused as INVALID_ENCODING', async () => {
    const latin1 = Buffer.from('Été à la forêt, où le garçon a déjà lu. '.repeat(50), 'latin1');
    expect(await refusal(parseFile(await fixture('latin1.txt', latin1), opts))).toBe('INVALID_ENCODING');
  });

  it('a stray invalid byte in a long UTF-8 text is kept as U+FFFD rather than losing the document', async () => {
    const text = Buffer.concat([Buffer.from('A long and otherwise valid note. '.repeat(100)), Buffer.from([0xff]), Buffer.from('The end.')]);
    const doc = await parseFile(await fixture('stray.txt', text), opts);
    expect(doc.sections[0]?.text).toContain('\uFFFDThe end.');
  });

  it('an empty file is refused as EMPTY', async () => {
    expect(await refusal(parseFile(await fixture('empty.txt', ''), opts))).toBe('EMPTY');
  });

  it('a file of only whitespace is refused as EMPTY', async () => {
    expect(await refusal(parseFile(await fixture('blank.md', ' \n\n\t \r\n'), opts))).toBe('EMPTY');
  });
});

describe('markdown', () => {
  it('a markdown file is split into sections with heading paths and no markdown syntax', async () => {
    const md = [
      '---',
      'client: Fernhill',
      '---',
      '# Guide',
      'Intro with **bold** and a [link](https://example.invalid).',
      '## Install',
      'Run `setup` first.',
      '### Linux',
      '- apt update',
      '- apt install fern',
      '## Use',
      '| key | value |',
      '| --- | ----- |',
      '| a   | 1     |',
      '<script>alert("x")</script>',
    ].join('\n');
    const doc = await parseFile(await fixture('guide.md', md), opts);
    expect(doc.title).toBe('Guide');
    expect(doc.format).toBe('md');
    expect(doc.sections).toEqual([
      { text: 'client: Fernhill' },
      { text: 'Guide\n\nIntro with bold and a link.', headingPath: ['Guide'] },
      { text: 'Install\n\nRun setup first.', headingPath: ['Guide', 'Install'] },
      { text: 'Linux\n\n- apt update\n- apt install fern', headingPath: ['Guide', 'Install', 'Linux'] },
      { text: 'Use\n\nkey | value\na | 1', headingPath: ['Guide', 'Use'] },
    ]);
  });

  it('markdown nested 10,000 block quotes deep is read or refused as TOO_DEEP, never crashes', async () => {
    const path = await fixture('deep.md', '>'.repeat(10_000) + ' bottom');
    const outcome = await parseFile(path, opts).then(
      (doc) => doc.sections.map((s) => s.text).join(' '),
      (err: unknown) => (err instanceof ParseError ? err.code : err),
    );
    expect(['bottom', 'TOO_DEEP']).toContain(outcome);
  });
});

describe('html', () => {
  it('HTML drops script and style, decodes entities and splits on h1..h6 with heading paths', async () => {
    const html = `<!doctype html><html><head><title>Fern &amp; Moss</title>
      <style>body { color: red }</style><script>var secret = 1;</script></head>
      <body><p>Before any heading.</p>
      <h1>Ferns</h1><p>Ferns like <b>shade</b>&nbsp;and water.</p>
      <h3>Tree ferns</h3><p>Tall.</p><noscript>enable js</noscript>
      <h2>Care</h2><ul><li>Mist daily</li><li>No sun</li></ul>
      <h1>Moss</h1><table><tr><th>Kind</th><th>Colour</th></tr><tr><td>Sphagnum</td><td>green</td></tr></table>
      </body></html>`;
    const doc = await parseFile(await fixture('plants.html', html), opts);
    expect(doc.title).toBe('Fern & Moss');
    expect(doc.sections).toEqual([
      { text: 'Before any heading.' },
      { text: 'Ferns\n\nFerns like shade and water.', headingPath: ['Ferns'] },
      { text: 'Tree ferns\n\nTall.', headingPath: ['Ferns', 'Tree ferns'] },
      { text: 'Care\n\n- Mist daily\n- No sun', headingPath: ['Ferns', 'Care'] },
      { text: 'Moss\n\nKind | Colour\nSphagnum | green', headingPath: ['Moss'] },
    ]);
    const all = doc.sections.map((s) => s.text).join(' ');
    expect(all).not.toMatch(/secret|color: red|enable js/);
  });

  it('an HTML page whose only content is script is refused as EMPTY', async () => {
    const path = await fixture('script-only.htm', '<html><body><script>document.write("hi")</script></body></html>');
    expect(await refusal(parseFile(path, opts))).toBe('EMPTY');
  });

  it('HTML nested 100,000 elements deep is refused as TOO_DEEP within a second', async () => {
    const path = await fixture('deep.html', '<div>'.repeat(100_000) + 'bottom' + '</div>'.repeat(100_000));
    const started = performance.now();
    expect(await refusal(parseFile(path, opts))).toBe('TOO_DEEP');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('HTML nested 900 elements deep (deep but plausible) is still read', async () => {
    const path = await fixture('deep-ok.html', '<div>'.repeat(900) + 'bottom' + '</div>'.repeat(900));
    expect((await parseFile(path, opts)).sections).toEqual([{ text: 'bottom' }]);
  });
});

describe('csv', () => {
  it('CSV rows become "header: value" lines, one block per row, quotes and embedded newlines kept', async () => {
    const csv = 'name,city,note\r\n"Doe, Jane",Lyon,"line one\nline two"\r\nBob,,ok\r\n';
    const doc = await parseFile(await fixture('people.csv', csv), opts);
    expect(doc.sections).toEqual([{ text: 'name: Doe, Jane\ncity: Lyon\nnote: line one\nline two\n\nname: Bob\nnote: ok' }]);
  });

  it('a semicolon-separated CSV (as European spreadsheets write) is split on semicolons', async () => {
    const doc = await parseFile(await fixture('eu.csv', 'produit;prix\nthé;3,50\n'), opts);
    expect(doc.sections[0]?.text).toBe('produit: thé\nprix: 3,50');
  });
});

describe('json', () => {
  it('JSON leaves become "path.to.key: value" lines, top-level entries separated by a blank line', async () => {
    const json = JSON.stringify({
      client: { name: 'Fernhill', tags: ['a', 'b'], 'odd.key': true },
      empty: {},
      note: 'brackets [[{ in a string do not count',
    });
    const doc = await parseFile(await fixture('client.json', json), opts);
    expect(doc.sections).toEqual([
      {
        text: [
          'client.name: Fernhill\nclient.tags[0]: a\nclient.tags[1]: b\nclient["odd.key"]: true',
          'empty: {}',
          'note: brackets [[{ in a string do not count',
        ].join('\n\n'),
      },
    ]);
  });

  it('a 5,000-level nested JSON is refused as TOO_DEEP without a crash', async () => {
    const path = await fixture('deep.json', '['.repeat(5000) + ']'.repeat(5000));
    expect(await refusal(parseFile(path, opts))).toBe('TOO_DEEP');
  });

  it('JSON nested 257 levels deep is refused as TOO_DEEP by the scan, before it is parsed', async () => {
    const path = await fixture('deep-257.json', '['.repeat(257) + ']'.repeat(257));
    const err = await parseFile(path, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).code).toBe('TOO_DEEP');
    expect((err as ParseError).cause).toBeUndefined(); // not a stack overflow caught after the fact
  });

  it('JSON nested exactly 256 levels deep is still accepted', async () => {
    const path = await fixture('deep-ok.json', '['.repeat(255) + '{"leaf":1}' + ']'.repeat(255));
    const doc = await parseFile(path, opts);
    expect(doc.sections[0]?.text).toBe('[0]' + '[0]'.repeat(254) + '.leaf: 1');
  });

  it('invalid JSON is refused as CORRUPT', async () => {
    expect(await refusal(parseFile(await fixture('broken.json', '{"a": 1,'), opts))).toBe('CORRUPT');
  });
});

// ---- pdf ------------------------------------------------------------------------------------

describe('pdf', () => {
  it('a PDF gives one section per page with text, each with its page number, and its title', async () => {
    const bytes = await makePdf(['Ferns grow in shade.', '', 'Moss grows on stone.'], { title: 'Plant notes' });
    const doc = await parseFile(await fixture('plants.pdf', bytes), opts);
    expect(doc).toEqual({
      title: 'Plant notes',
      format: 'pdf',
      sections: [
        { text: 'Ferns grow in shade.', page: 1 },
        { text: 'Moss grows on stone.', page: 3 },
      ],
    });
  });

  it('a password-protected PDF is refused as ENCRYPTED', async () => {
    const bytes = await makePdf(['Confidential salary table.'], { userPassword: 'user-secret' });
    // The fixture is a real encrypted PDF: pdf.js reads it with the password and not without.
    const withPassword = await getDocument({ data: new Uint8Array(bytes), password: 'user-secret', verbosity: 0 }).promise;
    const page = await (await withPassword.getPage(1)).getTextContent();
    expect(page.items.map((i) => ('str' in i ? i.str : '')).join('')).toBe('Confidential salary table.');
    await withPassword.destroy();

    expect(await refusal(parseFile(await fixture('locked.pdf', bytes), opts))).toBe('ENCRYPTED');
  });

  it('a PDF with no text at all (like a scan) is refused as EMPTY', async () => {
    const bytes = await makePdf(['', '']);
    expect(await refusal(parseFile(await fixture('scan.pdf', bytes), opts))).toBe('EMPTY');
  });

  it('a truncated PDF is refused as CORRUPT', async () => {
    const bytes = await makePdf(['Ferns grow in shade.']);
    const path = await fixture('truncated.pdf', bytes.subarray(0, 60));
    expect(await refusal(parseFile(path, opts))).toBe('CORRUPT');
  });

  it('a file named .pdf that does not start with %PDF is refused as CORRUPT', async () => {
    const path = await fixture('fake.pdf', 'Hello, I am plain text pretending to be a PDF.');
    expect(await refusal(parseFile(path, opts))).toBe('CORRUPT');
  });

  it('random bytes after a %PDF header are refused as CORRUPT', async () => {
    const path = await fixture('noise.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(32 * 1024)]));
    expect(await refusal(parseFile(path, opts))).toBe('CORRUPT');
  });

  it('a deadline that passes while a 300-page PDF is parsed stops it with TIMEOUT', async () => {
    const bytes = await makePdf(Array.from({ length: 300 }, (_, i) => `Page ${i + 1} of a long report.`));
    const path = await fixture('long.pdf', bytes);
    const whole = await parseFile(path, opts); // the same file parses fine with no deadline
    expect(whole.sections).toHaveLength(300);
    expect(await refusal(parseFile(path, { ...opts, timeoutMs: 1 }))).toBe('TIMEOUT');
  });
});

// ---- docx -----------------------------------------------------------------------------------

describe('docx', () => {
  it('a .docx keeps its Word headings as heading paths', async () => {
    const doc = await parseFile(await fixture('onboarding.docx', await makeDocx()), opts);
    expect(doc.title).toBe('Onboarding guide');
    expect(doc.format).toBe('docx');
    expect(doc.sections).toEqual([
      { text: 'Onboarding guide\n\nWelcome to the Fernhill account team.', headingPath: ['Onboarding guide'] },
      { text: 'Accounts\n\nAsk the IT desk for a laptop on day one.', headingPath: ['Onboarding guide', 'Accounts'] },
      { text: 'Payroll\n\nSalaries are paid on the last working day.', headingPath: ['Payroll'] },
    ]);
  });

  it('a zip bomb named .docx (1 MiB that expands to 1 GiB) is refused as ZIP_BOMB with memory bounded', async () => {
    const path = join(dir, 'bomb.docx');
    await writeZip(path, (zip) => zip.addReadStream(zeros(1024 * MiB), 'word/media/image1.png'));
    const size = (await readFile(path)).length;
    expect(size).toBeLessThan(2 * MiB);

    const rssBefore = process.memoryUsage().rss;
    expect(await refusal(parseFile(path, opts))).toBe('ZIP_BOMB');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * MiB);
  });

  it("a zip whose headers understate an entry's size is refused as ZIP_BOMB while inflating", async () => {
    const path = join(dir, 'liar.docx');
    await writeZip(path, (zip) => zip.addBuffer(Buffer.alloc(8 * MiB), 'word/media/image1.png'));
    const bytes = await readFile(path);
    lieAboutSize(bytes, 'word/media/image1.png', 1000);
    await writeFile(path, bytes);
    expect(await refusal(parseFile(path, opts))).toBe('ZIP_BOMB');
  });

  it('random bytes named .docx are refused as CORRUPT', async () => {
    expect(await refusal(parseFile(await fixture('random.docx', randomBytes(64 * 1024)), opts))).toBe('CORRUPT');
  });

  it('a damaged zip named .docx (zip signature, then noise) is refused as CORRUPT', async () => {
    const bytes = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(64 * 1024)]);
    expect(await refusal(parseFile(await fixture('damaged.docx', bytes), opts))).toBe('CORRUPT');
  });

  it('a zip that is not a Word document is refused as CORRUPT', async () => {
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('hello'), 'readme.txt');
    zip.end();
    const path = join(dir, 'other.docx');
    await pipeline(zip.outputStream, createWriteStream(path));
    expect(await refusal(parseFile(path, opts))).toBe('CORRUPT');
  });

  it('a password-protected .docx (an OLE container with EncryptedPackage) is refused as ENCRYPTED', async () => {
    // A real CFB container with the two streams Office writes; the payload itself is random.
    const container = CFB.utils.cfb_new();
    CFB.utils.cfb_add(container, '/EncryptionInfo', randomBytes(256));
    CFB.utils.cfb_add(container, '/EncryptedPackage', randomBytes(8192));
    const bytes = Buffer.from(CFB.write(container, { type: 'buffer' }) as Uint8Array);
    expect(await refusal(parseFile(await fixture('locked.docx', bytes), opts))).toBe('ENCRYPTED');
  });

  it('a legacy Word .doc renamed to .docx is refused as UNSUPPORTED_TYPE', async () => {
    const container = CFB.utils.cfb_new();
    CFB.utils.cfb_add(container, '/WordDocument', randomBytes(8192));
    const bytes = Buffer.from(CFB.write(container, { type: 'buffer' }) as Uint8Array);
    expect(await refusal(parseFile(await fixture('legacy.docx', bytes), opts))).toBe('UNSUPPORTED_TYPE');
  });
});

// ---- limits and the file itself ---------------------------------------------------------------

describe('limits', () => {
  it('a 200 MB text file is refused as TOO_LARGE from its size, with memory growth under 64 MiB', async () => {
    // Refused, not streamed: the limit (64 MiB by default) is what bounds memory for every format.
    const path = join(dir, 'huge.txt');
    const line = Buffer.from('All work and no play makes a very large text file. '.repeat(20) + '\n');
    let written = 0;
    await pipeline(
      Readable.from(
        (function* () {
          while (written < 200 * 1000 * 1000) {
            written += line.length;
            yield line;
          }
        })(),
      ),
      createWriteStream(path),
    );
    const rssBefore = process.memoryUsage().rss;
    expect(await refusal(parseFile(path, opts))).toBe('TOO_LARGE');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MiB);
    await rm(path);
  });

  it('a file one byte over maxBytes is refused as TOO_LARGE and one at the limit is read', async () => {
    const atLimit = await fixture('at-limit.txt', 'x'.repeat(100));
    expect((await parseFile(atLimit, { maxBytes: 100 })).sections[0]?.text).toHaveLength(100);
    const over = await fixture('over-limit.txt', 'x'.repeat(101));
    expect(await refusal(parseFile(over, { maxBytes: 100 }))).toBe('TOO_LARGE');
  });

  it('an unknown extension is refused as UNSUPPORTED_TYPE before the file is opened', async () => {
    expect(await refusal(parseFile(join(dir, 'does-not-exist.exe'), opts))).toBe('UNSUPPORTED_TYPE');
  });

  it('a missing file is refused as NOT_FOUND and a directory as UNREADABLE', async () => {
    expect(await refusal(parseFile(join(dir, 'missing.txt'), opts))).toBe('NOT_FOUND');
    await mkdir(join(dir, 'folder.txt'));
    expect(await refusal(parseFile(join(dir, 'folder.txt'), opts))).toBe('UNREADABLE');
  });

  it('an already aborted signal stops the parse with ABORTED', async () => {
    const path = await fixture('abort.txt', 'Some text.');
    const controller = new AbortController();
    controller.abort();
    expect(await refusal(parseFile(path, { ...opts, signal: controller.signal }))).toBe('ABORTED');
  });
});
