import { useEffect, useState, type FormEvent } from 'react';
import type { SearchFilters } from '../../src-shared/contract.js';
import { Highlighted } from '../components/Highlighted.js';
import { openPassage } from '../state/panels.js';
import { MAX_SEARCH_CHARS } from '../../src-shared/search-limits.js';
import { findSimilar, loadFacets, navigateSearch, NO_FILTERS, openDocument, parseSearchViewUrl, useSearchView } from '../state/search.js';
import { displayName, Name } from '../components/Name.js';

function toggle(list: readonly string[], value: string): string[] {
  return list.includes(value) ? list.filter((x) => x !== value) : [...list, value];
}

function Filters({ filters, onChange }: { filters: SearchFilters; onChange: (f: SearchFilters) => void }) {
  const facets = useSearchView((s) => s.facets);
  const [tagDraft, setTagDraft] = useState('');
  const active = filters.formats.length + filters.tags.length + (filters.from ? 1 : 0) + (filters.to ? 1 : 0);
  return (
    <div className="filters" role="group" aria-label="Filters" data-testid="search-filters">
      <div className="filter-group">
        <span className="filter-label">Kind</span>
        {(facets?.formats ?? []).map((f) => (
          <button
            key={f.name}
            type="button"
            className={`chip ${filters.formats.includes(f.name) ? 'on' : ''}`}
            aria-pressed={filters.formats.includes(f.name)}
            onClick={() => onChange({ ...filters, formats: toggle(filters.formats, f.name) })}
          >
            <Name text={f.name} /> <span className="chip-count">{f.count}</span>
          </button>
        ))}
      </div>
      <div className="filter-group">
        <span className="filter-label">Tags</span>
        {filters.tags.map((t) => (
          <button
            key={t}
            type="button"
            className="chip on"
            aria-label={`Remove tag filter ${displayName(t)}`}
            onClick={() => onChange({ ...filters, tags: filters.tags.filter((x) => x !== t) })}
          >
            {t} ×
          </button>
        ))}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const t = tagDraft.trim();
            if (t && !filters.tags.includes(t)) onChange({ ...filters, tags: [...filters.tags, t] });
            setTagDraft('');
          }}
        >
          <input
            className="tag-input"
            autoComplete="off"
            list="search-tag-options"
            value={tagDraft}
            onChange={(e) => setTagDraft(e.target.value)}
            placeholder="Add tag…"
            aria-label="Filter by tag"
          />
          <datalist id="search-tag-options">
            {(facets?.tags ?? []).map((t) => (
              <option key={t.name} value={t.name} />
            ))}
          </datalist>
        </form>
      </div>
      <div className="filter-group">
        <span className="filter-label">Added</span>
        <input type="date" aria-label="Added from" value={filters.from ?? ''} onChange={(e) => onChange({ ...filters, from: e.target.value || null })} />
        <span className="muted">to</span>
        <input type="date" aria-label="Added until" value={filters.to ?? ''} onChange={(e) => onChange({ ...filters, to: e.target.value || null })} />
      </div>
      {active > 0 && (
        <button type="button" className="button ghost small" onClick={() => onChange(NO_FILTERS)}>
          Clear filters
        </button>
      )}
    </div>
  );
}

/** The search box: one line for a few words, taller for a pasted passage (newlines kept); Enter searches, Shift+Enter breaks the line. */
function QueryBox({ draft, setDraft, loading, onSubmit }: { draft: string; setDraft: (s: string) => void; loading: boolean; onSubmit: () => void }) {
  const long = draft.length > 120 || draft.includes('\n');
  const tooLong = draft.length > MAX_SEARCH_CHARS;
  return (
    <>
      <form
        className="search-bar"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          onSubmit();
        }}
        role="search"
      >
        <textarea
          id="search-query"
          className={long ? 'long' : ''}
          rows={long ? 6 : 1}
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              onSubmit();
            }
          }}
          placeholder="What are you looking for? Words, or paste a passage to find the ones like it.  ( / )"
          aria-label="Search query"
          aria-invalid={tooLong}
          aria-describedby="search-query-length"
        />
        <button className="button primary" type="submit" disabled={loading || !draft.trim() || tooLong}>
          {loading ? 'Searching…' : 'Search'}
        </button>
      </form>
      {long && (
        <p id="search-query-length" className={`small-print ${tooLong ? 'error-text' : 'muted'}`} data-testid="search-query-length">
          {draft.length.toLocaleString('en')} of {MAX_SEARCH_CHARS.toLocaleString('en')} characters
          {tooLong ? ': too long for a search, shorten it' : ' · a long passage is searched by its most telling words'}
        </p>
      )}
    </>
  );
}

/** The start of a passage for the banner: one line per paragraph (the heading first), three at most (CSS). */
function excerpt(text: string): string {
  const lines = text.replace(/\n\s*\n/g, '\n').trim();
  return lines.length > 400 ? `${lines.slice(0, 400)}…` : lines;
}

/** The view's URL state as shown: a pasted passage in `q=` is cut to its start (the state keeps it whole). */
function shownUrl(url: string): string {
  return url.length > 300 ? `search${url.slice(0, 300)}…` : url ? `search${url}` : '';
}

export function SearchScreen() {
  const { url, result, resultUrl, likePassage, loading, error } = useSearchView();
  const view = parseSearchViewUrl(url);
  const [draft, setDraft] = useState(view.query);
  useEffect(() => {
    void loadFacets();
  }, []);
  // A new view (find similar, back to a query) puts its own query in the box.
  useEffect(() => setDraft(parseSearchViewUrl(url).query), [url]);
  function submit(): void {
    const query = draft.trim();
    if (query && query.length <= MAX_SEARCH_CHARS) void navigateSearch({ query, like: null, filters: view.filters });
  }
  const like = view.like !== null ? likePassage : null;
  return (
    <div className="screen">
      <header className="screen-header">
        <div>
          <h1>Search</h1>
          <p className="muted">Full text and meaning, across this client&apos;s library only.</p>
        </div>
      </header>
      <QueryBox draft={draft} setDraft={setDraft} loading={loading} onSubmit={submit} />
      {view.like !== null && (
        <div className="like-banner" data-testid="like-banner">
          <div className="like-what">
            <span className="eyebrow">Passages like</span>
            {like && like.chunkId === view.like ? (
              <>
                <span className="like-title">
                  <Name text={like.title} />
                </span>
                <span className="like-text muted">{excerpt(like.text)}</span>
              </>
            ) : (
              <span className="muted">passage {view.like}</span>
            )}
          </div>
          <button type="button" className="button ghost small" onClick={() => void navigateSearch({ query: '', like: null, filters: view.filters })}>
            Clear
          </button>
        </div>
      )}
      <Filters
        filters={view.filters}
        onChange={(filters) => void navigateSearch(view.like !== null ? { ...view, filters } : { query: draft.trim() || view.query, like: null, filters })}
      />
      <p className="view-url muted small-print" data-testid="search-view-url" title="This view's state">
        {shownUrl(url)}
      </p>
      {error && <p className="error-text">{error}</p>}
      {result && (
        <>
          <p className="muted small-print" data-testid="search-summary">
            {result.passages.length} passage{result.passages.length === 1 ? '' : 's'} · {result.mode === 'hybrid' ? 'full text + meaning' : 'full text only'}
            {parseSearchViewUrl(resultUrl).like !== null ? ' · other documents than the passage’s own' : ''}
            {result.note ? ` (${result.note})` : ''}
          </p>
          {result.searchedAs && (
            <p className="muted small-print" data-testid="searched-as" title={result.searchedAs}>
              Searched by its most telling words: {result.searchedAs.split(' ').slice(0, 24).join(', ')}
              {result.searchedAs.split(' ').length > 24 ? ', …' : ''}
            </p>
          )}
          <ol className={`hit-list ${resultUrl === url ? '' : 'stale'}`} aria-busy={resultUrl !== url}>
            {result.passages.map((p) => (
              <li key={p.chunkId} className="hit-item">
                <button className="hit" onClick={() => void openPassage(p.chunkId)} data-testid="search-hit">
                  <span className="hit-title">
                    {p.format && <span className={`format-badge format-${p.format}`}>{p.format}</span>}
                    <Name text={p.title} />
                  </span>
                  <span className="hit-where muted">
                    <Name text={p.sourcePath} />
                    {p.page !== null ? ` · page ${p.page}` : ''}
                    {p.headingPath.length > 0 ? ` · ${p.headingPath.join(' › ')}` : ''}
                  </span>
                  <span className="hit-text">
                    <Highlighted text={p.text} ranges={p.highlights ?? []} max={320} />
                  </span>
                </button>
                <div className="hit-actions">
                  <button className="button ghost small" onClick={() => void openDocument(p.documentId, p.chunkId)} data-testid="open-document">
                    Open document
                  </button>
                  <button className="button ghost small" onClick={() => void findSimilar(p.chunkId)} data-testid="find-similar">
                    Find similar
                  </button>
                </div>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
