import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PDFDocument, StandardFonts } from '@cantoo/pdf-lib';
import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import yazl from 'yazl';

import { ParseError } from '../../src-main/ingest/parsers/index.js';

// Real documents made by real libraries, for parser and ingestion tests.

/** A stream of `bytes` zero bytes (the hostile-file bench's own). */
export { zeros } from '../../bench/parsers/hostile-builders.js';

/** What a parse came to: 'ok', or the code of the ParseError it was refused with (anything else is thrown). */
export async function parseOutcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof ParseError) return err.code;
    throw err;
  }
}

export async function makePdf(pages: string[], options: { title?: string; userPassword?: string } = {}): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const text of pages) {
    const page = pdf.addPage([400, 300]);
    if (text !== '') page.drawText(text, { x: 20, y: 250, size: 12, font });
  }
  if (options.title) pdf.setTitle(options.title);
  if (options.userPassword) pdf.encrypt({ userPassword: options.userPassword, ownerPassword: 'owner-secret' });
  return pdf.save();
}

export async function makeDocx(): Promise<Buffer> {
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Onboarding guide', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('Welcome to the Fernhill account team.'),
          new Paragraph({ text: 'Accounts', heading: HeadingLevel.HEADING_2 }),
          new Paragraph('Ask the IT desk for a laptop on day one.'),
          new Paragraph({ text: 'Payroll', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('Salaries are paid on the last working day.'),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

export const DOCUMENT_XML =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
  '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' +
  '<w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>';

/** A zip with a real document part and the given extra entries, written to `path`. */
export async function writeZip(path: string, extra: (zip: yazl.ZipFile) => void): Promise<void> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(DOCUMENT_XML), 'word/document.xml');
  extra(zip);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}
