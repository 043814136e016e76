// OpenDocument text (.odt): content.xml's paragraphs, split at headings (text:h with its outline
// level), through the same container and XML caps as the Office formats.
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { readOfficeZip } from './office-zip.js';
import { walkXml } from './office-xml.js';
import { ParseError } from './parse-error.js';

const KIND = 'OpenDocument text';
const ODT_MIME = 'application/vnd.oasis.opendocument.text';

export async function parseOdt(bytes: Buffer, ctx: ParseContext): Promise<ParsedDocument> {
  const zip = await readOfficeZip(bytes, KIND, (n) => n === 'content.xml' || n === 'mimetype', ctx.maxExpandedBytes, ctx.signal);
  const content = zip.get('content.xml');
  if (!content || zip.get('mimetype')?.toString('latin1').trim() !== ODT_MIME) {
    throw new ParseError('CORRUPT', 'This file is a zip archive but not an OpenDocument text.');
  }
  const sections: ParsedSection[] = [];
  const path: string[] = [];
  let paragraphs: string[] = [];
  let current: string | null = null;
  let heading: { level: number } | null = null;
  let skip = 0;
  // Text spent as it is read: a space run (text:s) is 20 bytes of XML for 100 characters.
  const add = (t: string): void => {
    if (current === null) return;
    ctx.textBudget.spend(t.length);
    current += t;
  };
  const flush = (): void => {
    if (paragraphs.length) sections.push({ text: paragraphs.join('\n\n'), ...(path.length ? { headingPath: [...path] } : {}) });
    paragraphs = [];
  };
  walkXml(content, KIND, {
    open(name, attrs) {
      if (name === 'office:annotation' || name === 'text:tracked-changes') skip++;
      else if (name === 'text:h') {
        heading = { level: Math.max(1, Math.min(10, Number(attrs['text:outline-level'] ?? 1) || 1)) };
        current = '';
      } else if (name === 'text:p' && current === null) current = '';
      else if (name === 'text:s') add(' '.repeat(Math.min(100, Number(attrs['text:c'] ?? 1) || 1)));
      else if (name === 'text:tab') add('\t');
      else if (name === 'text:line-break') add('\n');
    },
    text(t) {
      if (skip === 0) add(t);
    },
    close(name) {
      if (name === 'office:annotation' || name === 'text:tracked-changes') skip--;
      else if (name === 'text:h' && heading) {
        const text = (current ?? '').trim();
        flush();
        if (text) {
          path.splice(heading.level - 1);
          while (path.length < heading.level - 1) path.push('');
          path.push(text);
        }
        heading = null;
        current = null;
      } else if (name === 'text:p' && heading === null && current !== null) {
        const text = current.trim();
        if (text) paragraphs.push(text);
        current = null;
      }
    },
  });
  flush();
  const title = sections.find((s) => s.headingPath?.length)?.headingPath?.find(Boolean);
  return {
    title: title ?? ctx.fallbackTitle,
    format: 'odt',
    sections: sections.map((s) => (s.headingPath ? { ...s, headingPath: s.headingPath.filter(Boolean) } : s)),
  };
}
