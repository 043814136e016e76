import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES, parseFile, type ParseOptions } from '../../../src-main/ingest/parsers/index.js';
import { type Part, pptxParts, writeParts, xlsxParts } from '../../helpers/office.js';
import { parseOutcome } from '../../helpers/documents.js';

// Office documents whose parts are small but whose text is not: one part named by many entries,
// one shared text used by many cells, space runs that are 20 bytes of XML for 100 characters.
// Each is read once, or refused by the text budget while it is read (the bench has the large ones:
// bench/parsers/hostile-files.ts, xlsx-*, pptx-*, odt-*).
const MiB = 1024 * 1024;
const opts: ParseOptions = { maxBytes: DEFAULT_MAX_BYTES };
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulkhead-office-expansion-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function replace(parts: Part[], name: string, content: string): Part[] {
  return parts.map(([n, c]) => (n === name ? [n, content] : [n, c]));
}

describe('office parts named many times, and text that expands', () => {
  it('a slide named by several entries of the presentation is read once, in its first place, and its notes once', async () => {
    const P =
      'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
    const ids = ['rId7', 'rId7', 'rId3', 'rId7'].map((r, i) => `<p:sldId id="${256 + i}" r:id="${r}"/>`).join('');
    const path = join(dir, 'repeat.pptx');
    await writeParts(path, replace(pptxParts(), 'ppt/presentation.xml', `<p:presentation ${P}><p:sldIdLst>${ids}</p:sldIdLst></p:presentation>`));
    const doc = await parseFile(path, opts);
    expect(doc.sections.map((s) => s.headingPath)).toEqual([['Slide 1: Quarterly review'], ['Slide 1: Quarterly review', 'Notes'], ['Slide 2: Next steps']]);
  });

  it('a worksheet named by two sheets is read once; a header in the last column names its cells', async () => {
    const parts = replace(
      replace(
        xlsxParts(),
        'xl/workbook.xml',
        `<workbook xmlns:r="${REL}"><sheets><sheet name="One" sheetId="1" r:id="rId1"/><sheet name="Again" sheetId="2" r:id="rId1"/></sheets></workbook>`,
      ),
      'xl/worksheets/sheet1.xml',
      '<worksheet><sheetData><row><c r="XFD1" t="inlineStr"><is><t>edge</t></is></c><c r="A1" t="inlineStr"><is><t>first</t></is></c></row><row><c r="XFD2"><v>9</v></c><c r="B2"><v>2</v></c></row></sheetData></worksheet>',
    );
    const path = join(dir, 'twice.xlsx');
    await writeParts(path, parts);
    expect((await parseFile(path, opts)).sections).toEqual([{ text: 'column B: 2\nedge: 9', headingPath: ['One'] }]);
  });

  it('one shared text of 100 KiB used by 200 cells (20 M characters from a small file) is TOO_LARGE', async () => {
    const cells = '<c t="s"><v>0</v></c>'.repeat(200);
    const parts = replace(
      replace(xlsxParts(), 'xl/sharedStrings.xml', `<sst><si><t>${'x'.repeat(100 * 1024)}</t></si></sst>`),
      'xl/worksheets/sheet1.xml',
      `<worksheet><sheetData><row><c r="A1" t="inlineStr"><is><t>h</t></is></c></row><row>${cells}</row></sheetData></worksheet>`,
    );
    const path = join(dir, 'shared.xlsx');
    await writeParts(path, parts);
    expect(await parseOutcome(parseFile(path, opts))).toBe('TOO_LARGE');
  });

  it('an OpenDocument text of 200k runs of 100 spaces (20 M characters from 4 MB of XML) is TOO_LARGE', async () => {
    const T = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"';
    const path = join(dir, 'spaces.odt');
    await writeParts(path, [
      ['mimetype', 'application/vnd.oasis.opendocument.text'],
      [
        'content.xml',
        `<office:document-content ${T}><office:body><office:text><text:p>a${'<text:s text:c="100"/>'.repeat(200_000)}b</text:p></office:text></office:body></office:document-content>`,
      ],
    ]);
    expect(await parseOutcome(parseFile(path, { ...opts, maxExpandedBytes: 16 * MiB }))).toBe('TOO_LARGE');
  });
});
