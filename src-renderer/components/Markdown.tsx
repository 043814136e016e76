import { useLayoutEffect, useRef, useState, type MouseEvent } from 'react';
import type { Citation } from '../../src-shared/contract.js';
import { openPassage } from '../state/panels.js';
import { Dialog } from './Dialog.js';
import { answerHtml, linkTarget } from './markdown-html.js';

const CITATION = /\[(S\d{1,4}(?:\s*,\s*S\d{1,4})*)\]/g;

/** Turns "[S2]" (or "[S1, S2]") in text outside code into citation buttons. */
function linkCitations(root: HTMLElement, citations: Citation[]): void {
  const byId = new Map(citations.map((c) => [c.id, c]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (!n.parentElement?.closest('pre, code')) texts.push(n as Text);
  for (const node of texts) {
    const text = node.data;
    const parts: (string | Node)[] = [];
    let last = 0;
    for (const m of text.matchAll(CITATION)) {
      const cited = m[1]!.split(/\s*,\s*/).flatMap((id) => byId.get(id) ?? []);
      if (cited.length === 0) continue;
      parts.push(text.slice(last, m.index));
      for (const c of cited) {
        const b = document.createElement('button');
        b.className = 'cite';
        b.type = 'button';
        b.textContent = c.id;
        b.title = c.title;
        b.dataset.chunk = String(c.chunkId);
        b.dataset.testid = 'citation-inline';
        parts.push(b);
      }
      last = m.index + m[0].length;
    }
    if (parts.length === 0) continue;
    parts.push(text.slice(last));
    node.replaceWith(...parts);
  }
}

async function copyText(text: string, button: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed';
  }
  window.setTimeout(() => (button.textContent = 'Copy'), 1500);
}

/** A model's answer as sanitised Markdown; citations open passages, links open only after a confirmation. */
export function MarkdownAnswer({ text, citations }: { text: string; citations: Citation[] }) {
  const box = useRef<HTMLDivElement>(null);
  const [pendingLink, setPendingLink] = useState<string | null>(null);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    el.innerHTML = answerHtml(text);
    linkCitations(el, citations);
  }, [text, citations]);

  function onClick(e: MouseEvent<HTMLDivElement>): void {
    const target = e.target as HTMLElement;
    const cite = target.closest<HTMLElement>('button.cite');
    if (cite?.dataset.chunk) return void openPassage(Number(cite.dataset.chunk));
    const copy = target.closest<HTMLElement>('button.copy-code');
    if (copy) return void copyText(copy.closest('.code-block')?.querySelector('code')?.textContent ?? '', copy);
    const link = target.closest<HTMLElement>('a.ext-link');
    if (link) {
      e.preventDefault();
      const href = linkTarget(link.dataset.href ?? '');
      if (href) setPendingLink(href);
    }
  }

  function open(): void {
    // Outside the app: a new browser tab (the desktop shell hands https addresses to the system browser).
    if (pendingLink) window.open(pendingLink, '_blank', 'noopener,noreferrer');
    setPendingLink(null);
  }

  return (
    <>
      <div
        ref={box}
        className="answer-text answer-md"
        onClick={onClick}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.target as HTMLElement).matches('a.ext-link')) onClick(e as unknown as MouseEvent<HTMLDivElement>);
        }}
      />
      {pendingLink && (
        <Dialog
          title="Open this link outside Bulkhead?"
          onClose={() => setPendingLink(null)}
          footer={
            <>
              <button className="button ghost" onClick={() => setPendingLink(null)}>
                Cancel
              </button>
              <button className="button primary" onClick={open}>
                Open link
              </button>
            </>
          }
        >
          <p className="muted small-print">The answer links to this address. It opens in your browser, not in Bulkhead:</p>
          <p className="link-confirm-target" data-testid="link-target">
            {pendingLink}
          </p>
        </Dialog>
      )}
    </>
  );
}
