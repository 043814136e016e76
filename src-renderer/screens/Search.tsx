import { useState, type FormEvent } from 'react';
import { openPassage, runSearch, useSearch } from '../state/panels.js';

export function SearchScreen() {
  const { query, result, loading, error } = useSearch();
  const [draft, setDraft] = useState(query);
  function submit(e: FormEvent): void {
    e.preventDefault();
    if (draft.trim()) void runSearch(draft.trim());
  }
  return (
    <div className="screen">
      <header className="screen-header">
        <div>
          <h1>Search</h1>
          <p className="muted">Full text and meaning, across this client&apos;s library only.</p>
        </div>
      </header>
      <form className="search-bar" onSubmit={submit} role="search">
        <input type="search" autoFocus value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="What are you looking for?" aria-label="Search query" />
        <button className="button primary" type="submit" disabled={loading || !draft.trim()}>
          {loading ? 'Searching…' : 'Search'}
        </button>
      </form>
      {error && <p className="error-text">{error}</p>}
      {result && (
        <>
          <p className="muted small-print">
            {result.passages.length} passage{result.passages.length === 1 ? '' : 's'} · {result.mode === 'hybrid' ? 'full text + meaning' : 'full text only'}
            {result.note ? ` (${result.note})` : ''}
          </p>
          <ol className="hit-list">
            {result.passages.map((p) => (
              <li key={p.chunkId}>
                <button className="hit" onClick={() => void openPassage(p.chunkId)} data-testid="search-hit">
                  <span className="hit-title">{p.title}</span>
                  <span className="hit-where muted">
                    {p.sourcePath}
                    {p.page !== null ? ` · page ${p.page}` : ''}
                    {p.headingPath.length > 0 ? ` · ${p.headingPath.join(' › ')}` : ''}
                  </span>
                  <span className="hit-text">{p.text.length > 320 ? `${p.text.slice(0, 320)}…` : p.text}</span>
                </button>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
