import { setImmediate as nextTurn } from 'node:timers/promises';
import { Parser } from 'htmlparser2';
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { MAX_HTML_ELEMENTS, tooMany, type TextBudget } from './limits.js';
import { ParseError, throwIfStopped } from './parse-error.js';
import { decodeText } from './text-decoding.js';

/** Elements whose content is never document text (code, styling, embedded media, templates). */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'audio', 'video', 'select']);
const LINE_BLOCKS = new Set(['li', 'dt', 'dd', 'tr', 'br', 'option', 'caption', 'figcaption', 'summary', 'thead', 'tbody', 'tfoot']);
const PARAGRAPH_BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'details',
  'dialog',
  'div',
  'dl',
  'fieldset',
  'figure',
  'footer',
  'form',
  'header',
  'hgroup',
  'hr',
  'html',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'ul',
]);
const HEADING = /^h([1-6])$/;
/**
 * htmlparser2 keeps its open-element stack with Array.unshift, so cost grows with the square of
 * the nesting: 100,000 nested divs take seconds. Real pages stay far below this depth.
 */
export const MAX_HTML_DEPTH = 1000;
/** Fed to the parser in slices so that a deadline or cancel can land between them. */
const SLICE = 1024 * 1024;

enum Break {
  None = 0,
  Space = 1,
  Line = 2,
  Paragraph = 3,
}

export interface HtmlSections {
  /** The <title>, if the page has one. */
  title: string | undefined;
  /** The first heading's text: a title for documents that have no <title> (markdown, docx). */
  firstHeading: string | undefined;
  sections: ParsedSection[];
}

export async function parseHtml(bytes: Uint8Array, ctx: ParseContext): Promise<ParsedDocument> {
  const { title, firstHeading, sections } = await htmlToSections(decodeText(bytes), ctx.signal, ctx.textBudget);
  return { title: title ?? firstHeading ?? ctx.fallbackTitle, format: 'html', sections };
}

/**
 * HTML to sections of plain text, split at every h1..h6 with the heading path of the section.
 * Also the common back end of markdown (rendered by marked) and docx (rendered by mammoth), so
 * the three formats agree on what a heading path is.
 */
export async function htmlToSections(html: string, signal: AbortSignal | undefined, budget?: TextBudget): Promise<HtmlSections> {
  const builder = new SectionBuilder(budget);
  let skipDepth = 0;
  let preDepth = 0;
  let inTitle = false;
  const titleParts: string[] = [];
  const cellsInRow: number[] = [];
  let depth = 0;
  let elements = 0;

  const parser = new Parser(
    {
      onopentag(name) {
        // Thrown from inside the callback, this stops htmlparser2 before the deep stack gets costly.
        if (++depth > MAX_HTML_DEPTH) throw new ParseError('TOO_DEEP', 'This page is nested too deeply to read.');
        if (++elements > MAX_HTML_ELEMENTS) throw tooMany('elements');
        if (SKIPPED.has(name)) skipDepth++;
        if (skipDepth > 0) return;
        if (name === 'title') inTitle = true;
        else if (name === 'pre') preDepth++;
        if (PARAGRAPH_BLOCKS.has(name)) builder.breakAt(Break.Paragraph);
        else if (LINE_BLOCKS.has(name)) builder.breakAt(Break.Line);
        const heading = HEADING.exec(name);
        if (heading) builder.openHeading(Number(heading[1]));
        else if (name === 'tr') cellsInRow.push(0);
        else if (name === 'td' || name === 'th') {
          const count = cellsInRow.at(-1) ?? 0;
          if (count > 0) builder.word('|');
          if (cellsInRow.length > 0) cellsInRow[cellsInRow.length - 1] = count + 1;
        } else if (name === 'li') builder.word('-');
      },
      onclosetag(name) {
        depth--;
        if (SKIPPED.has(name)) {
          if (skipDepth > 0) skipDepth--;
          return;
        }
        if (skipDepth > 0) return;
        if (name === 'title') inTitle = false;
        else if (name === 'pre' && preDepth > 0) preDepth--;
        else if (name === 'tr') cellsInRow.pop();
        if (HEADING.test(name)) builder.closeHeading();
        else if (PARAGRAPH_BLOCKS.has(name)) builder.breakAt(Break.Paragraph);
        else if (LINE_BLOCKS.has(name)) builder.breakAt(Break.Line);
      },
      ontext(data) {
        if (skipDepth > 0) return;
        if (inTitle) titleParts.push(data);
        else if (preDepth > 0) builder.preformatted(data);
        else builder.text(data);
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );

  for (let at = 0; at < html.length; at += SLICE) {
    throwIfStopped(signal);
    parser.write(html.slice(at, at + SLICE));
    if (at + SLICE < html.length) await nextTurn();
  }
  parser.end();
  throwIfStopped(signal);

  const title = collapse(titleParts.join('')).trim();
  return { title: title || undefined, firstHeading: builder.firstHeading, sections: builder.finish() };
}

function collapse(text: string): string {
  // HTML whitespace collapses; a non-breaking space is a space to a reader and to a tokenizer.
  return text.replace(/[ \t\n\r\f\u00a0]+/g, ' ');
}

interface DraftSection {
  parts: string[];
  headingPath: string[] | undefined;
  /** Holds nothing but its own heading so far. */
  headingOnly: boolean;
}

/** Accumulates text with at most one pending break, so whitespace never doubles up. */
class SectionBuilder {
  firstHeading: string | undefined;
  private readonly done: DraftSection[] = [];
  private current: DraftSection = { parts: [], headingPath: undefined, headingOnly: false };
  private pending: Break = Break.None;
  private readonly headings: { level: number; text: string }[] = [];
  private headingLevel = 0;
  private headingParts: string[] = [];

  constructor(private readonly budget: TextBudget | undefined) {}

  text(raw: string): void {
    if (this.headingLevel > 0) {
      this.budget?.spend(raw.length);
      this.headingParts.push(raw);
      return;
    }
    const text = collapse(raw);
    const core = text.trim();
    if (core === '') {
      if (text !== '') this.breakAt(Break.Space);
      return;
    }
    if (text.startsWith(' ')) this.breakAt(Break.Space);
    this.emit(core);
    if (text.endsWith(' ')) this.breakAt(Break.Space);
  }

  /** A token of our own (list bullet, cell separator) that stands apart from its neighbours. */
  word(word: string): void {
    if (this.headingLevel > 0) return;
    this.breakAt(Break.Space);
    this.emit(word);
    this.breakAt(Break.Space);
  }

  preformatted(raw: string): void {
    if (this.headingLevel > 0) {
      this.headingParts.push(raw);
      return;
    }
    const text = raw.replace(/\r\n?/g, '\n');
    if (text.trim() === '') {
      if (text.includes('\n')) this.breakAt(Break.Line);
      return;
    }
    this.emit(text);
  }

  breakAt(level: Break): void {
    if (this.current.parts.length > 0 && level > this.pending) this.pending = level;
  }

  openHeading(level: number): void {
    if (this.headingLevel > 0) return; // a heading inside a heading is just text of the outer one
    this.flush();
    this.headingLevel = level;
    this.headingParts = [];
  }

  closeHeading(): void {
    if (this.headingLevel === 0) return;
    const level = this.headingLevel;
    this.headingLevel = 0;
    const text = collapse(this.headingParts.join('')).trim();
    if (text === '') return;
    this.firstHeading ??= text;
    while ((this.headings.at(-1)?.level ?? 0) >= level) this.headings.pop();
    this.headings.push({ level, text });
    this.current = { parts: [text], headingPath: this.headings.map((h) => h.text), headingOnly: true };
    this.pending = Break.Paragraph;
  }

  finish(): ParsedSection[] {
    this.closeHeading();
    this.flush();
    const out: ParsedSection[] = [];
    this.done.forEach((draft, i) => {
      // A heading with no text of its own, directly followed by its first subsection, is already
      // carried by that subsection's heading path; a chunk of just "Chapter 2" helps no search.
      const next = this.done[i + 1];
      if (draft.headingOnly && next && isPrefix(draft.headingPath, next.headingPath)) return;
      const text = draft.parts.join('').trim();
      if (text === '') return;
      out.push(draft.headingPath ? { text, headingPath: draft.headingPath } : { text });
    });
    return out;
  }

  private emit(text: string): void {
    this.budget?.spend(text.length + 1);
    const parts = this.current.parts;
    if (parts.length > 0 && this.pending !== Break.None) {
      parts.push(this.pending === Break.Space ? ' ' : this.pending === Break.Line ? '\n' : '\n\n');
    }
    parts.push(text);
    this.pending = Break.None;
    this.current.headingOnly = false;
  }

  private flush(): void {
    if (this.current.parts.length > 0) this.done.push(this.current);
    this.current = { parts: [], headingPath: this.current.headingPath, headingOnly: false };
    this.pending = Break.None;
  }
}

function isPrefix(path: string[] | undefined, longer: string[] | undefined): boolean {
  if (!path || !longer || longer.length <= path.length) return false;
  return path.every((part, i) => longer[i] === part);
}
