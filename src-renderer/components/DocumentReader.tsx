import { useEffect, useRef } from 'react';
import { closeDocument, findSimilar, useReader } from '../state/search.js';
import { formatDate } from './format.js';
import { Name } from './Name.js';

/** A whole document, with the passage that led here marked in place and scrolled into view. */
export function DocumentReader() {
  const { view, chunkId, error } = useReader();
  const target = useRef<HTMLElement>(null);
  useEffect(() => {
    // Braces: scrollIntoView may return a promise in current Chromium; an effect returns only a cleanup.
    target.current?.scrollIntoView({ block: 'center' });
  }, [view, chunkId]);
  if (!view && !error) return null;
  return (
    <div className="reader-backdrop" onClick={(e) => e.target === e.currentTarget && closeDocument()}>
      <article className="reader" aria-label="Document" data-testid="document-reader" onKeyDown={(e) => e.key === 'Escape' && closeDocument()}>
        <header className="drawer-header">
          <div>
            <div className="eyebrow">Document</div>
            <h2>{view ? <Name text={view.document.title} /> : 'Unavailable'}</h2>
            {view && (
              <p className="muted small-print">
                <Name text={view.document.sourcePath} /> · {view.document.format} · added {formatDate(view.document.ingestedAt)}
                {view.document.tags.length > 0 ? ` · ${view.document.tags.join(', ')}` : ''}
              </p>
            )}
          </div>
          <div className="reader-actions">
            {view && chunkId !== null && (
              <button className="button ghost small" onClick={() => void findSimilar(chunkId)} data-testid="reader-find-similar">
                Find similar to the marked passage
              </button>
            )}
            <button className="icon-button" onClick={closeDocument} aria-label="Close document" autoFocus>
              ×
            </button>
          </div>
        </header>
        {error && <p className="error-text">{error}</p>}
        {view && (
          <div className="reader-text">
            {view.segments.map((s) =>
              s.chunkId === chunkId ? (
                <mark key={s.chunkId} ref={target} className="passage-in-place" data-testid="passage-in-place">
                  {s.text}
                </mark>
              ) : (
                <span key={s.chunkId}>{s.text}</span>
              ),
            )}
            {view.truncated && <p className="muted small-print">The rest of this document is too long to show here.</p>}
          </div>
        )}
      </article>
    </div>
  );
}
