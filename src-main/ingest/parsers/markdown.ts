import { Marked } from 'marked';
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { htmlToSections } from './html.js';
import { refuseHostileMarkdown } from './markdown-scan.js';
import { throwIfStopped } from './parse-error.js';
import { decodeText, normalizeNewlines } from './text-decoding.js';

/** YAML front matter is metadata a reader still wants searchable, but it is not markdown. */
const FRONT_MATTER = /^---\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;

/**
 * Markdown goes through marked (CommonMark + GFM tables) to HTML, then through the same HTML path
 * as web pages and docx, so inline syntax is dropped the same way and headings give the path.
 * Raw HTML inside markdown is therefore handled too: its scripts and styles are dropped.
 */
export async function parseMarkdown(bytes: Uint8Array, ctx: ParseContext): Promise<ParsedDocument> {
  let source = normalizeNewlines(decodeText(bytes));
  const leading: ParsedSection[] = [];
  const frontMatter = FRONT_MATTER.exec(source);
  if (frontMatter) {
    const metadata = frontMatter[1]?.trim() ?? '';
    if (metadata !== '') leading.push({ text: metadata });
    source = source.slice(frontMatter[0].length);
  }
  refuseHostileMarkdown(source);
  throwIfStopped(ctx.signal);
  // A fresh instance: marked's global options are shared by every importer in the process.
  const html = new Marked({ gfm: true, async: false }).parse(source, { async: false });
  const { firstHeading, sections } = await htmlToSections(html, ctx.signal, ctx.textBudget);
  return { title: firstHeading ?? ctx.fallbackTitle, format: 'md', sections: [...leading, ...sections] };
}
