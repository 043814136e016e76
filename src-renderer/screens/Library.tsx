import { useEffect, useRef, useState, type DragEvent } from 'react';
import type { DocumentItem } from '../../src-shared/contract.js';
import { messageOf } from '../client.js';
import { Dialog } from '../components/Dialog.js';
import { WatchPanel } from '../components/WatchPanel.js';
import { formatBytes, formatDate, plural } from '../components/format.js';
import { clearIngest, ingestFiles, stopIngest, useIngest } from '../state/ingest.js';
import { loadFacets, useSearchView } from '../state/search.js';
import { deleteDocument, loadPage, PAGE_SIZE, setTags, useLibrary } from '../state/library.js';
import { displayName, Name } from '../components/Name.js';

const ACCEPT = '.txt,.md,.markdown,.html,.htm,.pdf,.docx,.csv,.json,.pptx,.xlsx,.odt,.eml';

function TagCell({ doc }: { doc: DocumentItem }) {
  const [draft, setDraft] = useState('');
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = (tags: string[]): void => {
    setError(null);
    setTags(doc.id, tags).catch((err: unknown) => setError(messageOf(err)));
  };
  return (
    <td className="tags-cell" data-testid="doc-tags">
      {doc.tags.map((t) => (
        <span key={t} className="tag-chip">
          <button className="tag-filter" onClick={() => void loadPage(0, undefined, { tags: [t] })} title={`Show documents tagged ${displayName(t)}`}>
            {t}
          </button>
          <button onClick={() => save(doc.tags.filter((x) => x !== t))} aria-label={`Remove tag ${displayName(t)} from ${displayName(doc.title)}`}>
            ×
          </button>
        </span>
      ))}
      {adding ? (
        <form
          className="tag-form"
          onSubmit={(e) => {
            e.preventDefault();
            const t = draft.trim();
            if (t) save([...doc.tags, t]);
            setDraft('');
            setAdding(false);
          }}
        >
          <input
            className="tag-add"
            autoComplete="off"
            autoFocus
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={() => !draft.trim() && setAdding(false)}
            placeholder="tag"
            aria-label={`Add a tag to ${displayName(doc.title)}`}
            maxLength={64}
          />
        </form>
      ) : (
        // A button, not an input per row: the table stays light with thousands of documents.
        <button className="tag-plus" onClick={() => setAdding(true)} aria-label={`Tag ${displayName(doc.title)}`} title="Add a tag">
          + tag
        </button>
      )}
      {error && <span className="error-text small-print">{error}</span>}
    </td>
  );
}

function IngestPanel() {
  const { jobs, running, summary, error } = useIngest();
  if (jobs.length === 0) return null;
  const failed = jobs.filter((j) => j.phase === 'failed');
  return (
    <section className="panel ingest-panel" aria-label="Adding files" data-testid="ingest-panel">
      <header className="panel-header">
        <h2>{running ? `Adding ${jobs.length} file${jobs.length === 1 ? '' : 's'}…` : 'Files added'}</h2>
        {running ? (
          <button className="button ghost small" onClick={stopIngest}>
            Stop
          </button>
        ) : (
          <button className="button ghost small" onClick={clearIngest}>
            Dismiss
          </button>
        )}
      </header>
      <ul className="job-list">
        {jobs.map((j) => (
          <li key={j.key} className={`job job-${j.phase}`} data-testid="ingest-job">
            <div className="job-line">
              <span className="job-name">
                <Name text={j.name} />
              </span>
              <span className="job-phase">{j.phase === 'done' ? (j.result?.status ?? 'done') : j.phase}</span>
            </div>
            <progress max={1} value={j.progress} aria-label={`progress of ${displayName(j.name)}`} />
          </li>
        ))}
      </ul>
      {summary && (
        <p className="summary-line" data-testid="ingest-summary">
          {summary.added} added · {summary.replaced} replaced · {summary.unchanged} unchanged · {summary.failed} failed · {plural(summary.chunks, 'passage')}
          {summary.cancelled ? ' · stopped before the end' : ''}
        </p>
      )}
      {failed.length > 0 && !running && (
        <div className="failure-summary" role="alert" data-testid="ingest-failures">
          <h3>
            {failed.length} file{failed.length === 1 ? '' : 's'} could not be added
          </h3>
          <ul>
            {failed.map((j) => (
              <li key={j.key}>
                <strong>
                  <Name text={j.name} />
                </strong>
                : {j.error ?? j.result?.reason ?? 'failed'}
                {j.result?.code ? <span className="code-tag">{j.result.code}</span> : null}
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && <p className="error-text">{error}</p>}
    </section>
  );
}

export function LibraryScreen() {
  const { items, total, offset, filter, tags, formats, loading, error } = useLibrary();
  const running = useIngest((s) => s.running);
  const facets = useSearchView((s) => s.facets);
  const [draft, setDraft] = useState(filter);
  const [dragging, setDragging] = useState(false);
  const [confirm, setConfirm] = useState<DocumentItem | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void loadPage(0, '');
  }, []);
  // The kinds on offer are fetched when the menu is first used, not on the library's first paint.
  const [kindsWanted, setKindsWanted] = useState(false);
  useEffect(() => {
    if (kindsWanted) void loadFacets();
  }, [kindsWanted, total]);

  useEffect(() => {
    const t = window.setTimeout(() => {
      if (draft !== useLibrary.getState().filter) void loadPage(0, draft);
    }, 200);
    return () => window.clearTimeout(t);
  }, [draft]);

  function onDrop(e: DragEvent): void {
    e.preventDefault();
    setDragging(false);
    void ingestFiles([...e.dataTransfer.files]);
  }

  async function confirmDelete(): Promise<void> {
    if (!confirm) return;
    try {
      await deleteDocument(confirm.id);
      setConfirm(null);
    } catch (err) {
      setDeleteError(messageOf(err));
    }
  }

  const end = Math.min(offset + items.length, total);
  return (
    <div
      className={`screen library ${dragging ? 'dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
      data-testid="library"
    >
      <header className="screen-header">
        <div>
          <h1>Library</h1>
          <p className="muted">
            {total.toLocaleString()} document{total === 1 ? '' : 's'}
            {filter ? ` matching “${filter}”` : ''}
          </p>
          {(tags.length > 0 || formats.length > 0) && (
            <p className="filters" data-testid="library-narrowed">
              {tags.map((t) => (
                <button
                  key={t}
                  className="chip on"
                  onClick={() => void loadPage(0, undefined, { tags: tags.filter((x) => x !== t) })}
                  aria-label={`Stop filtering by tag ${displayName(t)}`}
                >
                  tag: {t} ×
                </button>
              ))}
              {formats.map((f) => (
                <button key={f} className="chip on" onClick={() => void loadPage(0, undefined, { formats: formats.filter((x) => x !== f) })}>
                  kind: {f} ×
                </button>
              ))}
            </p>
          )}
        </div>
        <div className="toolbar">
          <select
            className="kind-select"
            aria-label="Kind of document"
            onFocus={() => setKindsWanted(true)}
            onMouseDown={() => setKindsWanted(true)}
            value={formats[0] ?? ''}
            onChange={(e) => void loadPage(0, undefined, { formats: e.target.value ? [e.target.value] : [] })}
          >
            <option value="">All kinds</option>
            {(facets?.formats ?? []).map((k) => (
              <option key={k.name} value={k.name}>
                {displayName(k.name)} ({k.count})
              </option>
            ))}
          </select>
          <input
            className="search-input"
            type="search"
            placeholder="Filter by title or file"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            aria-label="Filter documents"
          />
          <button className="button primary" onClick={() => picker.current?.click()} disabled={running}>
            Add files
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            accept={ACCEPT}
            hidden
            data-testid="file-picker"
            onChange={(e) => {
              void ingestFiles([...(e.target.files ?? [])]);
              e.target.value = '';
            }}
          />
        </div>
      </header>
      <IngestPanel />
      <WatchPanel />
      {dragging && <div className="drop-overlay">Drop files to add them to this client</div>}
      {error && <p className="error-text">{error}</p>}
      {total === 0 && !loading && !filter && tags.length === 0 && formats.length === 0 ? (
        <div className="empty big-empty">
          <h2>No documents yet</h2>
          <p className="muted">
            Drop files here or use “Add files”: text, Markdown, HTML, PDF, Word, CSV, JSON, PowerPoint, Excel, OpenDocument text and e-mail (.eml).
          </p>
        </div>
      ) : (
        <div className="table-wrap">
          <table className="doc-table" aria-label="Documents">
            <thead>
              <tr>
                <th>Title</th>
                <th>File</th>
                <th className="num">Size</th>
                <th className="num">Passages</th>
                <th>Tags</th>
                <th>Added</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-testid="doc-row">
                  <td className="title-cell">
                    <span className={`format-badge format-${d.format}`}>{d.format}</span>
                    <Name text={d.title} />
                  </td>
                  <td className="muted ellipsis" title={displayName(d.sourcePath)}>
                    <Name text={d.sourcePath} />
                  </td>
                  <td className="num">{formatBytes(d.bytes)}</td>
                  <td className="num">{d.chunkCount}</td>
                  <TagCell doc={d} />
                  <td className="muted">{formatDate(d.ingestedAt)}</td>
                  <td className="actions">
                    <button
                      className="button ghost small danger"
                      onClick={() => (setDeleteError(null), setConfirm(d))}
                      aria-label={`Delete ${displayName(d.title)}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE_SIZE && (
        <footer className="pager">
          <span className="muted" data-testid="pager-range">
            {(offset + 1).toLocaleString()}–{end.toLocaleString()} of {total.toLocaleString()}
          </span>
          <button className="button small" disabled={offset === 0 || loading} onClick={() => void loadPage(Math.max(0, offset - PAGE_SIZE))}>
            Previous
          </button>
          <button className="button small" disabled={end >= total || loading} onClick={() => void loadPage(offset + PAGE_SIZE)}>
            Next
          </button>
        </footer>
      )}
      {confirm && (
        <Dialog
          title="Delete this document?"
          tone="danger"
          onClose={() => setConfirm(null)}
          footer={
            <>
              <button className="button ghost" onClick={() => setConfirm(null)}>
                Cancel
              </button>
              <button className="button danger-solid" onClick={() => void confirmDelete()}>
                Delete document
              </button>
            </>
          }
        >
          <p>
            <strong>
              <Name text={confirm.title} />
            </strong>{' '}
            and its {plural(confirm.chunkCount, 'passage')} will be removed from this client&apos;s library. This cannot be undone.
          </p>
          {deleteError && <p className="error-text">{deleteError}</p>}
        </Dialog>
      )}
    </div>
  );
}
