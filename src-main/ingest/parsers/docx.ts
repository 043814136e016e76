import mammoth from 'mammoth';
import type { ParseContext, ParsedDocument } from './document.js';
import { inspectDocxContainer } from './docx-container.js';
import { htmlToSections } from './html.js';
import { ParseError, throwIfStopped } from './parse-error.js';

/**
 * Word documents go through mammoth to HTML (headings become h1..h6 by their Word styles), then
 * through the HTML path so heading paths agree with web pages and markdown. The container is
 * inspected first: mammoth itself would expand any zip bomb in memory.
 */
export async function parseDocx(bytes: Buffer, ctx: ParseContext): Promise<ParsedDocument> {
  await inspectDocxContainer(bytes, ctx.maxExpandedBytes, ctx.signal);
  throwIfStopped(ctx.signal);
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: bytes },
      {
        // Images are not text; the default would inline every one as a base64 data URI.
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })),
        // A document must not make us read other files on this machine (linked images, etc.).
        externalFileAccess: false,
        ignoreEmptyParagraphs: true,
      },
    );
    html = result.value;
  } catch (err) {
    throw new ParseError('CORRUPT', 'This Word document is damaged and could not be read.', { cause: err });
  }
  const { firstHeading, sections } = await htmlToSections(html, ctx.signal, ctx.textBudget);
  return { title: firstHeading ?? ctx.fallbackTitle, format: 'docx', sections };
}
