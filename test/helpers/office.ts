// Small real office files and mails built in the test (yazl zips with the parts Office writes).
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import yazl from 'yazl';

export type Part = [name: string, content: string | Buffer | Readable];

export async function writeParts(path: string, parts: Part[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of parts) {
    if (typeof content === 'string') zip.addBuffer(Buffer.from(content), name);
    else if (Buffer.isBuffer(content)) zip.addBuffer(content, name);
    else zip.addReadStream(content, name);
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

const P =
  'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

function shape(text: string[], ph?: string): string {
  return `<p:sp>${ph ? `<p:nvSpPr><p:nvPr><p:ph type="${ph}"/></p:nvPr></p:nvSpPr>` : ''}<p:txBody>${text.map((t) => `<a:p><a:r><a:t>${t}</a:t></a:r></a:p>`).join('')}</p:txBody></p:sp>`;
}

/** A deck whose slide files are numbered against their order (slide2.xml shows first). */
export function pptxParts(slideBody?: string): Part[] {
  return [
    ['[Content_Types].xml', '<Types/>'],
    ['ppt/presentation.xml', `<p:presentation ${P}><p:sldIdLst><p:sldId id="256" r:id="rId7"/><p:sldId id="257" r:id="rId3"/></p:sldIdLst></p:presentation>`],
    [
      'ppt/_rels/presentation.xml.rels',
      `<Relationships><Relationship Id="rId3" Type="${REL}/slide" Target="slides/slide1.xml"/><Relationship Id="rId7" Type="${REL}/slide" Target="slides/slide2.xml"/></Relationships>`,
    ],
    [
      'ppt/slides/slide2.xml',
      `<p:sld ${P}><p:cSld><p:spTree>${slideBody ?? shape(['Quarterly review'], 'title') + shape(['Revenue grew &amp; costs fell', 'Churn is down'])}</p:spTree></p:cSld></p:sld>`,
    ],
    [
      'ppt/slides/_rels/slide2.xml.rels',
      `<Relationships><Relationship Id="rId1" Type="${REL}/notesSlide" Target="../notesSlides/notesSlide1.xml"/></Relationships>`,
    ],
    [
      'ppt/notesSlides/notesSlide1.xml',
      `<p:notes ${P}><p:cSld><p:spTree>${shape([''], 'sldImg')}${shape(['Mention the Heron account first.'], 'body')}${shape(['1'], 'sldNum')}</p:spTree></p:cSld></p:notes>`,
    ],
    ['ppt/slides/slide1.xml', `<p:sld ${P}><p:cSld><p:spTree>${shape(['Next steps'], 'title')}${shape(['Hire two analysts'])}</p:spTree></p:cSld></p:sld>`],
  ];
}

export function xlsxParts(sheetXml?: string): Part[] {
  const row = (n: number, cells: string): string => `<row r="${n}">${cells}</row>`;
  return [
    ['[Content_Types].xml', '<Types/>'],
    [
      'xl/workbook.xml',
      `<workbook xmlns:r="${REL}"><sheets><sheet name="Budget 2026" sheetId="1" r:id="rId1"/><sheet name="Staff" sheetId="2" r:id="rId2"/></sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `<Relationships><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/></Relationships>`,
    ],
    [
      'xl/sharedStrings.xml',
      '<sst><si><t>Item</t></si><si><t>Cost</t></si><si><r><t>Office </t></r><r><t>rent</t></r></si><si><t>Name</t></si><si><t>Ada</t></si></sst>',
    ],
    [
      'xl/worksheets/sheet1.xml',
      sheetXml ??
        `<worksheet><sheetData>${row(1, '<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>')}${row(2, '<c r="A2" t="s"><v>2</v></c><c r="B2"><v>1200</v></c><c r="D2" t="inlineStr"><is><t>monthly</t></is></c>')}${row(3, '<c r="A3" t="str"><f>A2</f><v>Total</v></c><c r="B3" t="b"><v>1</v></c>')}</sheetData></worksheet>`,
    ],
    [
      'xl/worksheets/sheet2.xml',
      `<worksheet><sheetData>${row(1, '<c r="A1" t="s"><v>3</v></c>')}${row(2, '<c r="A2" t="s"><v>4</v></c>')}</sheetData></worksheet>`,
    ],
  ];
}

export function odtParts(): Part[] {
  const T = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"';
  return [
    ['mimetype', 'application/vnd.oasis.opendocument.text'],
    [
      'content.xml',
      `<office:document-content ${T}><office:body><office:text><text:h text:outline-level="1">Project charter</text:h><text:p>Scope<text:s text:c="2"/>is fixed.</text:p><text:h text:outline-level="2">Risks</text:h><text:p>Late <text:span>delivery</text:span>.<office:annotation><text:p>hidden comment</text:p></office:annotation></text:p></office:text></office:body></office:document-content>`,
    ],
  ];
}

export const MAIL = [
  'From: Ada Lovelace <ada@example.org>',
  'To: Team <team@example.org>, bob@example.org',
  'Subject: Heron budget =?UTF-8?Q?=E2=80=93_final?=',
  'Date: Tue, 01 Dec 2026 09:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'The budget is approved at 40,000.',
  '--b1',
  'Content-Type: application/pdf; name="budget.pdf"',
  'Content-Disposition: attachment; filename="budget.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 not really').toString('base64'),
  '--b1--',
  '',
].join('\r\n');

/** A mail whose multiparts nest `depth` deep. */
export function nestedMail(depth: number): string {
  let body = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let i = depth; i > 0; i--) body = `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n${body}--n${i}--\r\n`;
  return `From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${body}`;
}
