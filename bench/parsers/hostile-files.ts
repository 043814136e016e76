// Pathological documents, one per kind of attack on a parser: nesting, huge tables, many tiny
// elements, expansion (compression ratios, repeated keys). Shared by the parser bench and the
// hostile-parser tests, so the figures and the promises are about the same files.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yazl from 'yazl';

const MiB = 1024 * 1024;

export interface HostileFile {
  name: string;
  /** What the parse must end in: a refusal code, or 'ok' for a large but sane file. */
  expect: string;
  write(path: string): Promise<void>;
}

function lines(n: number, line: (i: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(line(i));
  return out.join('\n');
}

const DOC_START =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>';
const DOC_END = '</w:body></w:document>';

async function docx(path: string, documentXml: string | (() => Readable)): Promise<void> {
  const zip = new yazl.ZipFile();
  if (typeof documentXml === 'string') zip.addBuffer(Buffer.from(documentXml), 'word/document.xml');
  else zip.addReadStream(documentXml(), 'word/document.xml');
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

function zeros(bytes: number): Readable {
  const block = Buffer.alloc(MiB);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

async function deflated(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  const z = zlib.createDeflate({ level: 9 });
  z.on('data', (b: Buffer) => parts.push(b));
  await pipeline(stream, z);
  return Buffer.concat(parts);
}

/** A PDF with correct cross-references, built by hand: pages given by content-stream bodies. */
export function handmadePdf(pageStreams: Buffer[], pageCount = pageStreams.length): Buffer {
  const objects: Buffer[] = [];
  const add = (body: Buffer | string): number => objects.push(Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'));
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // the page tree, filled in once the pages have numbers
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids: number[] = [];
  for (let i = 0; i < pageCount; i++) {
    const stream = pageStreams[i % pageStreams.length]!;
    const filter = stream[0] === 0x78 ? ' /Filter /FlateDecode' : '';
    const content = add(Buffer.concat([Buffer.from(`<< /Length ${stream.length}${filter} >>\nstream\n`), stream, Buffer.from('\nendstream')]));
    kids.push(add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 3 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objects[1] = Buffer.from(`<< /Type /Pages /Count ${kids.length} /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] >>`);
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let at = parts[0]!.length;
  objects.forEach((body, i) => {
    offsets.push(at);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(obj);
    at += obj.length;
  });
  const xref = ['xref', `0 ${objects.length + 1}`, '0000000000 65535 f ', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `)];
  parts.push(Buffer.from(`${xref.join('\n')}\ntrailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`));
  return Buffer.concat(parts);
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
    name: 'pdf-30000-pages.pdf',
    expect: 'TOO_LARGE',
    write: (p) => writeFile(p, handmadePdf([Buffer.from('BT /F1 12 Tf 20 100 Td (x) Tj ET')], 30_000)),
  },
  {
    name: 'txt-60MB-tiny-lines.txt',
    expect: 'ok',
    write: (p) => writeFile(p, 'a\n'.repeat(30 * MiB)),
  },
];
