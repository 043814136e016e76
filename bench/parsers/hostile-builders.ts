// Builders of the pathological documents in hostile-files.ts: office zips, streams of repeated
// markup, hand-made PDFs and their compressed streams, without holding gigabytes in memory.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import yazl from 'yazl';

export const MiB = 1024 * 1024;

export function lines(n: number, line: (i: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(line(i));
  return out.join('\n');
}

export const DOC_START =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>';
export const DOC_END = '</w:body></w:document>';

export async function docx(path: string, documentXml: string | (() => Readable)): Promise<void> {
  const zip = new yazl.ZipFile();
  if (typeof documentXml === 'string') zip.addBuffer(Buffer.from(documentXml), 'word/document.xml');
  else zip.addReadStream(documentXml(), 'word/document.xml');
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** A zip of the given parts (an Office or OpenDocument container). */
export async function zipOf(path: string, parts: [string, string | (() => Readable)][]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of parts) {
    if (typeof content === 'string') zip.addBuffer(Buffer.from(content), name);
    else zip.addReadStream(content(), name);
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** A stream of `head`, then `count` times `item`, then `tail`, without holding it all. */
export function repeated(head: string, item: string, count: number, tail: string): Readable {
  const block = Buffer.from(item.repeat(Math.max(1, Math.floor(65_536 / item.length))));
  const perBlock = block.length / Buffer.byteLength(item);
  let left = count;
  let started = false;
  return new Readable({
    read() {
      if (!started) {
        started = true;
        return void this.push(head);
      }
      if (left <= 0) {
        this.push(tail);
        return void this.push(null);
      }
      const n = Math.min(left, perBlock);
      left -= n;
      this.push(n === perBlock ? block : Buffer.from(item.repeat(n)));
    },
  });
}

export const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export function xlsx(path: string, sheet: () => Readable, sharedStrings = '<sst/>'): Promise<void> {
  return zipOf(path, [
    ['[Content_Types].xml', '<Types/>'],
    ['xl/workbook.xml', `<workbook xmlns:r="${REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`],
    ['xl/_rels/workbook.xml.rels', `<Relationships><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`],
    ['xl/sharedStrings.xml', sharedStrings],
    ['xl/worksheets/sheet1.xml', sheet],
  ]);
}

export function zeros(bytes: number): Readable {
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

export async function deflated(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  const z = zlib.createDeflate({ level: 9 });
  z.on('data', (b: Buffer) => parts.push(b));
  await pipeline(stream, z);
  return Buffer.concat(parts);
}

/**
 * LZW (as PDF writes it: MSB first, 9 to 12-bit codes, early change) of `bytes` zero bytes, built
 * to be as small as it can: codes 258, 259, ... each one zero longer than the last, then the
 * longest (3,839 zeros) over and over. About 2,500 times smaller than what it decodes to.
 */
export function lzwZeros(bytes: number): Buffer {
  const codes: number[] = [0];
  let out = 1;
  for (let code = 258; code < 4096 && out + (code - 256) <= bytes; code++) {
    codes.push(code);
    out += code - 256;
  }
  // The last code defined (4095 once the table is full) stands for this many zeros: 1 for code 0,
  // c - 256 for code c.
  const last = codes[codes.length - 1]!;
  const longest = last === 0 ? 1 : last - 256;
  while (out + longest <= bytes) {
    codes.push(last);
    out += longest;
  }
  codes.push(257);
  const parts: number[] = [];
  let cached = 0;
  let bits = 0;
  let nextCode = 258;
  let width = 9;
  codes.forEach((code, i) => {
    cached = (cached << width) | code;
    bits += width;
    while (bits >= 8) {
      bits -= 8;
      parts.push((cached >>> bits) & 0xff);
    }
    cached &= (1 << bits) - 1;
    if (i > 0 && code !== 257) {
      nextCode++;
      const n = nextCode + 1;
      if ((n & (n - 1)) === 0) width = Math.min(Math.log2(n) + 1, 12);
    }
  });
  if (bits > 0) parts.push((cached << (8 - bits)) & 0xff);
  return Buffer.from(parts);
}

/** A PDF with correct cross-references, built by hand: pages given by content-stream bodies. */
export function handmadePdf(pageStreams: Buffer[], pageCount = pageStreams.length, filterName?: string): Buffer {
  const objects: Buffer[] = [];
  const add = (body: Buffer | string): number => objects.push(Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'));
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // the page tree, filled in once the pages have numbers
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids: number[] = [];
  for (let i = 0; i < pageCount; i++) {
    const stream = pageStreams[i % pageStreams.length]!;
    const filter = filterName ? ` /Filter ${filterName.startsWith('[') ? filterName : `/${filterName}`}` : stream[0] === 0x78 ? ' /Filter /FlateDecode' : '';
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

/**
 * LZW of `bytes` using literal codes only: a clear code every 250 literals keeps every code 9 bits
 * wide (the table never reaches 511 entries), so any decoder must give `bytes` back.
 */
export function lzwLiterals(bytes: Buffer): Buffer {
  const codes: number[] = [];
  for (let i = 0; i < bytes.length; i += 250) codes.push(256, ...bytes.subarray(i, i + 250));
  codes.push(257);
  const out: number[] = [];
  let cached = 0;
  let bits = 0;
  for (const c of codes) {
    cached = (cached << 9) | c;
    bits += 9;
    while (bits >= 8) {
      bits -= 8;
      out.push((cached >>> bits) & 0xff);
    }
    cached &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((cached << (8 - bits)) & 0xff);
  return Buffer.from(out);
}
