import { useEffect, useState, type FormEvent } from 'react';
import type { SearchFilters } from '../../src-shared/contract.js';
import { Highlighted } from '../components/Highlighted.js';
import { openPassage } from '../state/panels.js';
import { loadFacets, navigateSearch, NO_FILTERS, openDocument, parseSearchViewUrl, useSearchView } from '../state/search.js';
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

export function SearchScreen() {
  const { url, result, loading, error } = useSearchView();
  const view = parseSearchViewUrl(url);
  const [draft, setDraft] = useState(view.query);
  useEffect(() => {
    void loadFacets();
  }, []);
  function submit(e: FormEvent): void {
    e.preventDefault();
    if (draft.trim()) void navigateSearch({ query: draft.trim(), filters: view.filters });
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
        <input
          id="search-query"
          type="search"
          autoComplete="off"
          autoFocus
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="What are you looking for?  ( / )"
          aria-label="Search query"
        />
        <button className="button primary" type="submit" disabled={loading || !draft.trim()}>
          {loading ? 'Searching…' : 'Search'}
        </button>
      </form>
      <Filters filters={view.filters} onChange={(filters) => void navigateSearch({ query: draft.trim() || view.query, filters })} />
      <p className="view-url muted small-print" data-testid="search-view-url" title="This view's state">
        {url ? `search${url}` : ''}
      </p>
      {error && <p className="error-text">{error}</p>}
      {result && (
        <>
          <p className="muted small-print">
            {result.passages.length} passage{result.passages.length === 1 ? '' : 's'} · {result.mode === 'hybrid' ? 'full text + meaning' : 'full text only'}
            {result.note ? ` (${result.note})` : ''}
          </p>
          <ol className="hit-list">
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
                <button className="button ghost small hit-open" onClick={() => void openDocument(p.documentId, p.chunkId)} data-testid="open-document">
                  Open document
                </button>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
