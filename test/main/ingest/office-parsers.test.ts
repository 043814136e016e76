import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as CFB from 'cfb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES, ParseError, parseFile, type ParseErrorCode, type ParseOptions } from '../../../src-main/ingest/parsers/index.js';
import { MAX_CELLS } from '../../../src-main/ingest/parsers/xlsx.js';
import { zeros } from '../../helpers/documents.js';
import { MAIL, nestedMail, odtParts, pptxParts, writeParts, xlsxParts } from '../../helpers/office.js';

const MiB = 1024 * 1024;
const opts: ParseOptions = { maxBytes: DEFAULT_MAX_BYTES };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-office-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<ParseErrorCode> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ParseError) return err.code;
    throw err;
  }
  throw new Error('expected a ParseError, but the document was accepted');
}

function lieAboutSize(zip: Buffer, name: string, declared: number): void {
  const fileName = Buffer.from(name);
  for (let at = zip.indexOf(fileName); at !== -1; at = zip.indexOf(fileName, at + 1)) {
    if (zip.readUInt32LE(at - 46) === 0x02014b50) zip.writeUInt32LE(declared, at - 46 + 24);
    else if (zip.readUInt32LE(at - 30) === 0x04034b50) zip.writeUInt32LE(declared, at - 30 + 22);
  }
}

describe('PowerPoint (.pptx)', () => {
  it('gives each slide in presentation order, then its notes, under "Slide N: title"', async () => {
    const path = join(dir, 'deck.pptx');
    await writeParts(path, pptxParts());
    const doc = await parseFile(path, opts);
    expect(doc).toEqual({
      title: 'Quarterly review',
      format: 'pptx',
      sections: [
        { text: 'Quarterly review\nRevenue grew & costs fell\nChurn is down', headingPath: ['Slide 1: Quarterly review'] },
        { text: 'Mention the Heron account first.', headingPath: ['Slide 1: Quarterly review', 'Notes'] },
        { text: 'Next steps\nHire two analysts', headingPath: ['Slide 2: Next steps'] },
      ],
    });
  });

  it('a zip bomb (256 KiB that expands to 256 MiB of slide part, over a 64 MiB cap) is refused as ZIP_BOMB with memory bounded', async () => {
    const path = join(dir, 'bomb.pptx');
    await writeParts(path, [...pptxParts(), ['ppt/slides/slide9.xml', zeros(256 * MiB)]]);
    expect((await readFile(path)).length).toBeLessThan(MiB);
    const rss = process.memoryUsage().rss;
    expect(await refusal(parseFile(path, { ...opts, maxExpandedBytes: 64 * MiB }))).toBe('ZIP_BOMB');
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * MiB);
  });

  it('a part whose header understates its size is refused as ZIP_BOMB while inflating', async () => {
    const path = join(dir, 'liar.pptx');
    await writeParts(path, [...pptxParts(), ['ppt/media/big.xml', Buffer.alloc(8 * MiB)]]);
    const bytes = await readFile(path);
    lieAboutSize(bytes, 'ppt/media/big.xml', 1000);
    await writeFile(path, bytes);
    expect(await refusal(parseFile(path, { ...opts, maxExpandedBytes: 4 * MiB }))).toBe('ZIP_BOMB');
  });

  it('shapes nested thousands deep are refused as TOO_DEEP', async () => {
    const path = join(dir, 'deep.pptx');
    await writeParts(path, pptxParts(`${'<p:grpSp>'.repeat(5000)}${'</p:grpSp>'.repeat(5000)}`));
    expect(await refusal(parseFile(path, opts))).toBe('TOO_DEEP');
  });

  it('broken files: random bytes, a zip cut short, a zip without a presentation, a legacy .ppt, a password-protected deck', async () => {
    expect(await refusal(parseFile(await put('random.pptx', randomBytes(64 * 1024)), opts))).toBe('CORRUPT');
    const whole = join(dir, 'whole.pptx');
    await writeParts(whole, pptxParts());
    const bytes = await readFile(whole);
    expect(await refusal(parseFile(await put('cut.pptx', bytes.subarray(0, bytes.length - 200)), opts))).toBe('CORRUPT');
    const other = join(dir, 'other.pptx');
    await writeParts(other, [['readme.txt', 'hello']]);
    expect(await refusal(parseFile(other, opts))).toBe('CORRUPT');
    const legacy = CFB.utils.cfb_new();
    CFB.utils.cfb_add(legacy, '/PowerPoint Document', randomBytes(4096));
    expect(await refusal(parseFile(await put('old.pptx', Buffer.from(CFB.write(legacy, { type: 'buffer' }) as Uint8Array)), opts))).toBe('UNSUPPORTED_TYPE');
    const locked = CFB.utils.cfb_new();
    CFB.utils.cfb_add(locked, '/EncryptionInfo', randomBytes(256));
    CFB.utils.cfb_add(locked, '/EncryptedPackage', randomBytes(8192));
    expect(await refusal(parseFile(await put('locked.pptx', Buffer.from(CFB.write(locked, { type: 'buffer' }) as Uint8Array)), opts))).toBe('ENCRYPTED');
  });
});

async function put(name: string, bytes: Buffer | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('Excel (.xlsx)', () => {
  it('gives each sheet as rows of "header: value" under the sheet name (shared, inline, formula and boolean cells)', async () => {
    const path = join(dir, 'book.xlsx');
    await writeParts(path, xlsxParts());
    const doc = await parseFile(path, opts);
    expect(doc.format).toBe('xlsx');
    expect(doc.sections).toEqual([
      { text: 'Item: Office rent\nCost: 1200\ncolumn D: monthly\n\nItem: Total\nCost: TRUE', headingPath: ['Budget 2026'] },
      { text: 'Name: Ada', headingPath: ['Staff'] },
    ]);
  });

  it(`a huge sheet (more than ${MAX_CELLS.toLocaleString('en')} cells) is refused as TOO_LARGE`, async () => {
    const path = join(dir, 'huge.xlsx');
    const rows = Math.ceil((MAX_CELLS + 10) / 10);
    const row = `<row>${'<c><v>1</v></c>'.repeat(10)}</row>`;
    await writeParts(path, xlsxParts(`<worksheet><sheetData>${row.repeat(rows)}</sheetData></worksheet>`));
    expect(await refusal(parseFile(path, opts))).toBe('TOO_LARGE');
  });

  it('a cell at the far right does not allocate a row of empty columns; a bomb and deep nesting are refused', async () => {
    const far = join(dir, 'far.xlsx');
    await writeParts(
      far,
      xlsxParts(
        '<worksheet><sheetData><row><c r="XFD1" t="inlineStr"><is><t>edge</t></is></c><c r="ZZZZ1"><v>9</v></c></row><row><c r="A2"><v>1</v></c></row></sheetData></worksheet>',
      ),
    );
    expect((await parseFile(far, opts)).sections[0]).toEqual({ text: 'column A: 1', headingPath: ['Budget 2026'] });
    const bomb = join(dir, 'bomb.xlsx');
    await writeParts(bomb, [...xlsxParts(), ['xl/worksheets/sheet3.xml', zeros(256 * MiB)]]);
    expect(await refusal(parseFile(bomb, { ...opts, maxExpandedBytes: 64 * MiB }))).toBe('ZIP_BOMB');
    const deep = join(dir, 'deep.xlsx');
    await writeParts(deep, xlsxParts(`<worksheet>${'<x>'.repeat(3000)}${'</x>'.repeat(3000)}</worksheet>`));
    expect(await refusal(parseFile(deep, opts))).toBe('TOO_DEEP');
    expect(await refusal(parseFile(await put('random.xlsx', randomBytes(10_000)), opts))).toBe('CORRUPT');
  });
});

describe('OpenDocument text (.odt)', () => {
  it('gives paragraphs split at headings, without annotations', async () => {
    const path = join(dir, 'charter.odt');
    await writeParts(path, odtParts());
    expect(await parseFile(path, opts)).toEqual({
      title: 'Project charter',
      format: 'odt',
      sections: [
        { text: 'Scope  is fixed.', headingPath: ['Project charter'] },
        { text: 'Late delivery.', headingPath: ['Project charter', 'Risks'] },
      ],
    });
    const notOdt = join(dir, 'not.odt');
    await writeParts(notOdt, [
      ['mimetype', 'application/zip'],
      ['content.xml', '<x/>'],
    ]);
    expect(await refusal(parseFile(notOdt, opts))).toBe('CORRUPT');
  });
});

describe('e-mail (.eml)', () => {
  it('gives the headers, the body and the attachments by name, type and size', async () => {
    const doc = await parseFile(await put('budget.eml', MAIL), opts);
    expect(doc.title).toBe('Heron budget – final');
    expect(doc.format).toBe('eml');
    expect(doc.sections).toEqual([
      {
        text: 'From: Ada Lovelace <ada@example.org>\nTo: Team <team@example.org>, bob@example.org\nDate: 2026-12-01T09:00:00.000Z\nSubject: Heron budget – final',
        headingPath: ['Heron budget – final', 'Headers'],
      },
      { text: 'The budget is approved at 40,000.', headingPath: ['Heron budget – final'] },
      { text: 'Attachments:\nbudget.pdf (application/pdf, 19 bytes)', headingPath: ['Heron budget – final', 'Attachments'] },
    ]);
  });

  it('an HTML-only mail is read as text, scripts left out', async () => {
    const mail = 'From: a@example.org\r\nSubject: Hi\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>team</b></p><script>alert(1)</script>';
    const doc = await parseFile(await put('html.eml', mail), opts);
    expect(doc.sections.map((s) => s.text)).toEqual(['From: a@example.org\nSubject: Hi', 'Hello team']);
  });

  it('hostile mails: MIME nested 200 deep is TOO_DEEP, binary is BINARY, no headers is CORRUPT, headers alone are EMPTY', async () => {
    expect(await refusal(parseFile(await put('deep.eml', nestedMail(200)), opts))).toBe('TOO_DEEP');
    expect(await refusal(parseFile(await put('bin.eml', Buffer.concat([Buffer.from('From: a@b\r\n'), randomBytes(4096), Buffer.alloc(16)])), opts))).toBe(
      'BINARY',
    );
    expect(await refusal(parseFile(await put('noise.eml', 'just some words, no headers here'), opts))).toBe('CORRUPT');
    expect(await refusal(parseFile(await put('empty.eml', 'From: a@example.org\r\nSubject: nothing\r\n\r\n'), opts))).toBe('EMPTY');
  });
});
