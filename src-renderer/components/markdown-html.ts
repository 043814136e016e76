// Model output (untrusted) as Markdown: marked parses it, with raw HTML shown as text, images as
// links and links without an href; DOMPurify then keeps only the few tags and attributes below.
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The address a link really points to, normalised (IDN hosts in punycode), or null unless http(s)/mailto. */
export function linkTarget(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:' || url.protocol === 'mailto:' ? url.href : null;
  } catch {
    return null;
  }
}

function externalLink(target: string, label: string, kind: 'link' | 'image'): string {
  const shown = escapeHtml(target);
  // No href: the click goes through the confirmation; the target is always on screen.
  return `<a class="ext-link ext-${kind}" data-href="${shown}" role="link" tabindex="0">${label}</a><span class="link-target">${shown}</span>`;
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    image({ href, text }: Tokens.Image): string {
      const target = linkTarget(href);
      const label = `image: ${escapeHtml(text || 'untitled')}`;
      // Never an <img>: a remote image would be fetched (a tracking pixel, an exfiltration channel).
      return target && !target.startsWith('mailto:') ? externalLink(target, label, 'image') : `<span class="blocked-link">[${label}]</span>`;
    },
    link(token: Tokens.Link): string {
      const label = this.parser.parseInline(token.tokens);
      const target = linkTarget(token.href);
      return target ? externalLink(target, label, 'link') : `<span class="blocked-link">${label}</span>`;
    },
    code({ text, lang }: Tokens.Code): string {
      const language = lang ? `<span class="code-lang">${escapeHtml(lang.split(/\s/)[0]!.slice(0, 32))}</span>` : '';
      return `<div class="code-block"><div class="code-bar">${language}<button type="button" class="copy-code">Copy</button></div><pre><code>${escapeHtml(text)}</code></pre></div>`;
    },
  },
});

const ALLOWED_TAGS = [
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'ul',
  'ol',
  'li',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'pre',
  'code',
  'em',
  'strong',
  'del',
  'blockquote',
  'hr',
  'br',
  'a',
  'span',
  'div',
  'button',
];

/** Sanitised HTML for an answer; safe to put in the DOM (no URL attribute, handler or style survives). */
export function answerHtml(markdown: string): string {
  const html = marked.parse(markdown, { async: false });
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['class', 'data-href', 'role', 'tabindex', 'type', 'align', 'start'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
}
