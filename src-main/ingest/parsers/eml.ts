// E-mail (.eml, RFC 822/MIME) through postal-mime under its nesting and header limits: the
// headers (from, to, cc, date, subject), the body (text, or HTML reduced to text), and the
// attachments listed by name, type and size (their content is not read as part of the mail).
import PostalMime, { type Address } from 'postal-mime';
import type { ParseContext, ParsedDocument, ParsedSection } from './document.js';
import { htmlToSections } from './html.js';
import { ParseError, throwIfStopped } from './parse-error.js';

export const MAX_MIME_DEPTH = 50;
const MAX_HEADER_BYTES = 1024 * 1024;

function addresses(list: Address[] | Address | undefined): string {
  const all = list === undefined ? [] : Array.isArray(list) ? list : [list];
  return all
    .flatMap((a) => ('group' in a && a.group ? a.group : [a]))
    .map((a) => ('address' in a && a.address ? (a.name ? `${a.name} <${a.address}>` : a.address) : a.name))
    .filter(Boolean)
    .join(', ');
}

function looksLikeMail(bytes: Buffer): boolean {
  // The first lines of a message are headers: "Name: value".
  const head = bytes.subarray(0, 4096).toString('latin1');
  return /^(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+/.test(head.replace(/^\uFEFF/, ''));
}

export async function parseEml(bytes: Buffer, ctx: ParseContext): Promise<ParsedDocument> {
  if (bytes.subarray(0, 8192).includes(0)) throw new ParseError('BINARY', 'This file is binary, not an e-mail message.');
  if (!looksLikeMail(bytes)) throw new ParseError('CORRUPT', 'This file is not an e-mail message (it does not start with mail headers).');
  let mail;
  try {
    mail = await PostalMime.parse(bytes, {
      maxNestingDepth: MAX_MIME_DEPTH,
      maxHeadersSize: MAX_HEADER_BYTES,
      maxRfc822NestingDepth: 3,
      attachmentEncoding: 'arraybuffer',
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (/nest/i.test(message)) throw new ParseError('TOO_DEEP', 'This e-mail is nested too deeply to read.', { cause: err });
    if (/header/i.test(message)) throw new ParseError('TOO_LARGE', 'This e-mail’s headers are too large to read.', { cause: err });
    throw new ParseError('CORRUPT', 'This e-mail message could not be read.', { cause: err });
  }
  throwIfStopped(ctx.signal);
  const subject = mail.subject?.trim() || null;
  const header = [
    ['From', addresses(mail.from)],
    ['To', addresses(mail.to)],
    ['Cc', addresses(mail.cc)],
    ['Date', mail.date ?? ''],
    ['Subject', subject ?? ''],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const sections: ParsedSection[] = [];
  const title = subject ?? ctx.fallbackTitle;
  if (header) sections.push({ text: header, headingPath: [title, 'Headers'] });
  const text = mail.text?.trim();
  if (text) sections.push({ text, headingPath: [title] });
  else if (mail.html) {
    const html = await htmlToSections(mail.html, ctx.signal, ctx.textBudget);
    for (const s of html.sections) sections.push({ ...s, headingPath: [title, ...(s.headingPath ?? [])] });
  }
  if (mail.attachments.length) {
    const lines = mail.attachments.map((a) => {
      const size = a.content instanceof ArrayBuffer ? a.content.byteLength : typeof a.content === 'string' ? a.content.length : 0;
      return `${a.filename ?? '(unnamed)'} (${a.mimeType}, ${size.toLocaleString('en')} bytes)`;
    });
    sections.push({ text: `Attachments:\n${lines.join('\n')}`, headingPath: [title, 'Attachments'] });
  }
  // Headers alone are not a document to search.
  return { title, format: 'eml', sections: text || sections.length > 1 ? sections : [] };
}
