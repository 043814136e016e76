// Pathological documents, one per kind of attack on a parser: nesting, huge tables, many tiny
// elements, expansion (compression ratios, repeated keys). Shared by the parser bench and the
// hostile-parser tests, so the figures and the promises are about the same files.
import { writeFile } from 'node:fs/promises';
import { DOC_END, DOC_START, deflated, docx, handmadePdf, lines, lzwLiterals, lzwZeros, MiB, REL, repeated, xlsx, zeros, zipOf } from './hostile-builders.js';

export { handmadePdf, lzwLiterals, lzwZeros } from './hostile-builders.js';

export interface HostileFile {
  name: string;
  /** What the parse must end in: a refusal code, or 'ok' for a large but sane file. */
  expect: string;
  write(path: string): Promise<void>;
}

export const HOSTILE_FILES: readonly HostileFile[] = [
  {
    // The finding: 9 MB, a list 3,000 levels deep; ran ingest out of heap after ~70 s.
    name: 'md-list-3000-deep.md',
    expect: 'TOO_DEEP',
    write: (p) =>
      writeFile(
        p,
        lines(3000, (i) => `${'  '.repeat(i)}- item ${i}`),
      ),
  },
  {
    name: 'md-quotes-5000-deep.md',
    expect: 'TOO_DEEP',
    write: (p) =>
      writeFile(
        p,
        lines(5000, (i) => `${'>'.repeat(i + 1)} quote ${i}`),
      ),
  },
  {
    name: 'md-emphasis-nest-20000.md',
    expect: 'TOO_DEEP',
    write: (p) => writeFile(p, `${'*a _'.repeat(20_000)}x${'_ a*'.repeat(20_000)}`),
  },
  {
    // 2,000 paragraphs of 3,900 emphasis marks: each under the per-paragraph cap, together ~2 min of marked.
    name: 'md-emphasis-2000-paragraphs.md',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, `${'_a'.repeat(3900)}\n\n`.repeat(2000)),
  },
  {
    name: 'md-table-1M-rows.md',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, `|a|b|\n|-|-|\n${'|x|y|\n'.repeat(1_000_000)}`),
  },
  {
    name: 'html-200k-deep.html',
    expect: 'TOO_DEEP',
    write: (p) => writeFile(p, `<html><body>${'<div>'.repeat(200_000)}deep${'</div>'.repeat(200_000)}</body></html>`),
  },
  {
    name: 'html-5M-tiny-elements.html',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, `<html><body>${'<b>x</b>'.repeat(5_000_000)}</body></html>`),
  },
  {
    name: 'json-100k-deep.json',
    expect: 'TOO_DEEP',
    write: (p) => writeFile(p, `${'['.repeat(100_000)}1${']'.repeat(100_000)}`),
  },
  {
    name: 'json-8M-tiny-values.json',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, `[${'0,'.repeat(8_000_000)}0]`),
  },
  {
    // 200 nested keys of 200 characters, then a million leaves: each leaf's line repeats the path.
    name: 'json-key-path-expansion.json',
    expect: 'TOO_LARGE',
    write: (p) => {
      const key = 'k'.repeat(200);
      return writeFile(p, `${`{"${key}":`.repeat(200)}[${'1,'.repeat(1_000_000)}1]${'}'.repeat(200)}`);
    },
  },
  {
    // A header of 2,000 long column names and rows of one-character cells: each cell repeats its header.
    name: 'csv-header-expansion.csv',
    expect: 'TOO_LARGE',
    write: (p) => {
      const header = Array.from({ length: 2000 }, (_, i) => `column-name-${i}-${'h'.repeat(200)}`).join(',');
      const row = Array.from({ length: 2000 }, () => 'x').join(',');
      return writeFile(p, `${header}\n${`${row}\n`.repeat(5000)}`);
    },
  },
  {
    name: 'csv-2M-rows.csv',
    expect: 'ok',
    write: (p) => writeFile(p, `a,b\n${'1,2\n'.repeat(2_000_000)}`),
  },
  {
    // 60 MB of commas: 60M empty cells in rows of 1,000. csv-parse built them all (66 s, 2.5 GB).
    name: 'csv-60M-empty-cells.csv',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, `${','.repeat(999)}\n`.repeat(60_000)),
  },
  {
    // 6M rows of one quoted cell with a doubled quote in it: 42 MB, within every limit.
    name: 'csv-6M-quoted-rows.csv',
    expect: 'ok',
    write: (p) => writeFile(p, `"q"\n${'"x""y"\n'.repeat(6_000_000)}`),
  },
  {
    // One quoted cell of 4 MiB across 800k line breaks: a record, not a row of a table.
    name: 'csv-4MiB-record.csv',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, `a,b\n1,"${'line\n'.repeat(800_000)}"\n2,3\n`),
  },
  {
    // 90k rows of 100 short cells, quoted and plain: 9M cells (40 MB), past the cell limit.
    name: 'csv-9M-cells.csv',
    expect: 'TOO_LARGE',
    write: (p) => {
      const row = Array.from({ length: 100 }, (_, i) => (i % 2 ? `"v${i}"` : `${i}`)).join(',');
      return writeFile(p, `${Array.from({ length: 100 }, (_, i) => `c${i}`).join(',')}\n${`${row}\n`.repeat(90_000)}`);
    },
  },
  {
    name: 'docx-xml-20000-deep.docx',
    expect: 'TOO_DEEP',
    write: (p) => docx(p, `${DOC_START}${'<w:tbl><w:tr><w:tc>'.repeat(7000)}<w:p/>${'</w:tc></w:tr></w:tbl>'.repeat(7000)}${DOC_END}`),
  },
  {
    // 2 MiB on disk, 2 GiB of document XML once inflated (a zip bomb).
    name: 'docx-zip-bomb-2GiB.docx',
    expect: 'ZIP_BOMB',
    write: (p) => docx(p, () => zeros(2048 * MiB)),
  },
  {
    name: 'docx-1M-tiny-paragraphs.docx',
    expect: 'TOO_LARGE',
    write: (p) => docx(p, `${DOC_START}${'<w:p><w:r><w:t>x</w:t></w:r></w:p>'.repeat(1_000_000)}${DOC_END}`),
  },
  {
    // One page whose content stream inflates to 1 GiB.
    name: 'pdf-flate-bomb-1GiB.pdf',
    expect: 'ZIP_BOMB',
    write: async (p) => writeFile(p, handmadePdf([await deflated(zeros(1024 * MiB))])),
  },
  {
    // One page whose LZW content stream (200 KB) decodes to 512 MiB: no zlib header to know it by.
    name: 'pdf-lzw-bomb-512MiB.pdf',
    expect: 'ZIP_BOMB',
    write: (p) => writeFile(p, handmadePdf([lzwZeros(512 * MiB)], 1, 'LZWDecode')),
  },
  {
    // One filter further: a zlib stream of 1 GiB of zeros (1 MB) inside an LZW stream.
    name: 'pdf-lzw-flate-bomb-1GiB.pdf',
    expect: 'ZIP_BOMB',
    write: async (p) => writeFile(p, handmadePdf([lzwLiterals(await deflated(zeros(1024 * MiB)))], 1, '[/LZWDecode /FlateDecode]')),
  },
  {
    name: 'pdf-30000-pages.pdf',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, handmadePdf([Buffer.from('BT /F1 12 Tf 20 100 Td (x) Tj ET')], 30_000)),
  },
  {
    // 300k rows whose one cell is in the last column (XFD): a row array 16,384 long for each.
    name: 'xlsx-300k-far-right-cells.xlsx',
    expect: 'ok',
    write: (p) =>
      xlsx(p, () =>
        repeated(
          '<worksheet><sheetData><row><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>',
          '<row><c r="XFD2"><v>1</v></c></row>',
          300_000,
          '</sheetData></worksheet>',
        ),
      ),
  },
  {
    // One shared text of 1 MiB used by 200k cells: 200 GB of text from a 1 MB file.
    name: 'xlsx-shared-string-200k-uses.xlsx',
    expect: 'TOO_LARGE',
    write: (p) =>
      xlsx(
        p,
        () =>
          repeated(
            '<worksheet><sheetData><row><c r="A1" t="inlineStr"><is><t>h</t></is></c></row><row>',
            '<c t="s"><v>0</v></c>',
            200_000,
            '</row></sheetData></worksheet>',
          ),
        `<sst><si><t>${'x'.repeat(MiB)}</t></si></sst>`,
      ),
  },
  {
    // 5,000 slide entries that all name the same slide, of 2 MB of text: 10 GB if read each time.
    name: 'pptx-one-slide-5000-times.pptx',
    expect: 'ok',
    write: (p) => {
      const P = `xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="${REL}"`;
      const ids = Array.from({ length: 5000 }, (_, i) => `<p:sldId id="${256 + i}" r:id="rId1"/>`).join('');
      return zipOf(p, [
        ['[Content_Types].xml', '<Types/>'],
        ['ppt/presentation.xml', `<p:presentation ${P}><p:sldIdLst>${ids}</p:sldIdLst></p:presentation>`],
        ['ppt/_rels/presentation.xml.rels', `<Relationships><Relationship Id="rId1" Type="${REL}/slide" Target="slides/slide1.xml"/></Relationships>`],
        [
          'ppt/slides/slide1.xml',
          () =>
            repeated(
              `<p:sld ${P}><p:cSld><p:spTree><p:sp><p:txBody>`,
              '<a:p><a:r><a:t>word word</a:t></a:r></a:p>',
              200_000,
              '</p:txBody></p:sp></p:spTree></p:cSld></p:sld>',
            ),
        ],
      ]);
    },
  },
  {
    // 6M space runs of 100 (<text:s text:c="100"/>): 130 MB of XML that would be 600M characters.
    name: 'odt-600M-spaces.odt',
    expect: 'TOO_LARGE',
    write: (p) =>
      zipOf(p, [
        ['mimetype', 'application/vnd.oasis.opendocument.text'],
        [
          'content.xml',
          () =>
            repeated(
              '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text><text:p>a',
              '<text:s text:c="100"/>',
              6_000_000,
              'b</text:p></office:text></office:body></office:document-content>',
            ),
        ],
      ]),
  },
  {
    // A mail of 300k tiny attachments (60 MB): each becomes an object in the MIME parser.
    name: 'eml-300k-parts.eml',
    expect: 'TOO_LARGE',
    write: (p) =>
      writeFile(
        p,
        `From: a@example.com\r\nTo: b@example.com\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n${'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="x.bin"\r\n\r\nx\r\n'.repeat(300_000)}--b--\r\n`,
      ),
  },
  {
    name: 'txt-60MB-tiny-lines.txt',
    expect: 'ok',
    write: (p) => writeFile(p, 'a\n'.repeat(30 * MiB)),
  },
];
