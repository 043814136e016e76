import { closePassage, usePassage } from '../state/panels.js';
import { findSimilar, openDocument } from '../state/search.js';
import { Name } from './Name.js';

/** The passage a citation or search hit points to, with where it sits in its document. */
export function PassageDrawer() {
  const { passage, error } = usePassage();
  if (!passage && !error) return null;
  return (
    <aside className="drawer" aria-label="Passage" data-testid="passage-drawer">
      <header className="drawer-header">
        <div>
          <div className="eyebrow">Passage</div>
          <h2>{passage ? <Name text={passage.title} /> : 'Unavailable'}</h2>
        </div>
        <button className="icon-button" onClick={closePassage} aria-label="Close passage">
          ×
        </button>
      </header>
      {error && <p className="error-text">{error}</p>}
      {passage && (
        <>
          <dl className="meta-grid">
            <dt>Source</dt>
            <dd>
              <Name text={passage.sourcePath} />
            </dd>
            {passage.page !== null && (
              <>
                <dt>Page</dt>
                <dd>{passage.page}</dd>
              </>
            )}
            {passage.headingPath.length > 0 && (
              <>
                <dt>Section</dt>
                <dd>{passage.headingPath.join(' › ')}</dd>
              </>
            )}
            <dt>Characters</dt>
            <dd>
              {passage.charStart.toLocaleString()}–{passage.charEnd.toLocaleString()}
            </dd>
          </dl>
          <blockquote className="passage-text">{passage.text}</blockquote>
          <button
            className="button small drawer-open-doc"
            onClick={() => void openDocument(passage.documentId, passage.chunkId)}
            data-testid="drawer-open-document"
          >
            Open document
          </button>
          <button className="button small drawer-open-doc" onClick={() => void findSimilar(passage.chunkId)} data-testid="drawer-find-similar">
            Find similar
          </button>
        </>
      )}
    </aside>
  );
}
