import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
// The legacy build is the one pdf.js supports under Node (no DOM, older runtimes); it runs its
// "worker" on this thread, which is why we check the abort signal between pages.
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { MAX_PDF_PAGES, tooMany } from './limits.js';
import { ParseError, stoppedError, throwIfStopped } from './parse-error.js';
import { refusePdfCompressionBomb } from './pdf-streams.js';

const PDF_MAGIC = Buffer.from('%PDF-');

// CMaps let pdf.js map CJK font codes to Unicode; standard fonts give it glyph widths. Both ship in
// the package and are read from disk: nothing is fetched.
const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const CMAP_DIR = join(pdfjsRoot, 'cmaps') + sep;
const STANDARD_FONT_DIR = join(pdfjsRoot, 'standard_fonts') + sep;

/** One section per page that has text, with its 1-based page number. */
export async function parsePdf(bytes: Uint8Array, ctx: ParseContext): Promise<ParsedDocument> {
  if (!PDF_MAGIC.equals(bytes.subarray(0, PDF_MAGIC.length))) {
    throw new ParseError('CORRUPT', 'This file is not a PDF (it does not start with %PDF).');
  }
  refusePdfCompressionBomb(bytes, ctx.maxExpandedBytes);
  throwIfStopped(ctx.signal);
  const task = getDocument({
    // pdf.js may detach the buffer it is given; hand it a copy so the caller's stays usable.
    data: new Uint8Array(bytes),
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    useWasm: false,
    enableXfa: false,
    stopAtErrors: false,
    cMapUrl: CMAP_DIR,
    cMapPacked: true,
    standardFontDataUrl: STANDARD_FONT_DIR,
  });
  const stop = () => void task.destroy();
  ctx.signal?.addEventListener('abort', stop, { once: true });
  try {
    const pdf = await task.promise;
    if (pdf.numPages > MAX_PDF_PAGES) throw tooMany('pages');
    const sections: ParsedSection[] = [];
    for (let page = 1; page <= pdf.numPages; page++) {
      throwIfStopped(ctx.signal);
      const handle = await pdf.getPage(page);
      const content = await handle.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        ctx.textBudget.spend(item.str.length + 1);
        text += item.str + (item.hasEOL ? '\n' : '');
      }
      handle.cleanup();
      text = text.replace(/[ \t]+\n/g, '\n').trim();
      if (text !== '') sections.push({ text, page });
    }
    const title = await readTitle(pdf);
    return { title: title ?? ctx.fallbackTitle, format: 'pdf', sections };
  } catch (err) {
    if (ctx.signal?.aborted) throw stoppedError(ctx.signal);
    throw toParseError(err);
  } finally {
    ctx.signal?.removeEventListener('abort', stop);
    await task.destroy();
  }
}

async function readTitle(pdf: { getMetadata(): Promise<{ info: object }> }): Promise<string | undefined> {
  try {
    const { info } = await pdf.getMetadata();
    const title: unknown = (info as { Title?: unknown }).Title;
    return typeof title === 'string' && title.trim() !== '' ? title.trim() : undefined;
  } catch {
    return undefined; // a broken Info dictionary costs the title, not the document
  }
}

function toParseError(err: unknown): ParseError {
  if (err instanceof ParseError) return err;
  const name = err instanceof Error ? err.name : '';
  if (name === 'PasswordException') {
    return new ParseError('ENCRYPTED', 'This PDF is password-protected. Remove the password and try again.', {
      cause: err,
    });
  }
  return new ParseError('CORRUPT', 'This PDF is damaged and could not be read.', { cause: err });
}
