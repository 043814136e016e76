import { useEffect, useState, type FormEvent } from 'react';
import { addFolder, confirmRemoved, refreshWatch, removeFolder, syncNow, useWatch } from '../state/watch.js';
import { Dialog } from './Dialog.js';
import { formatDate, plural } from './format.js';
import { displayName, Name } from './Name.js';

/** Folders kept in sync with this client's library (none until the user adds one). */
export function WatchPanel() {
  const { status, error } = useWatch();
  const [draft, setDraft] = useState('');
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const running = status?.running ?? false;
  const watching = (status?.folders.length ?? 0) > 0;

  useEffect(() => {
    // After the library's first paint: the folders' state is not what a switch waits for.
    const t = window.setTimeout(() => void refreshWatch(), 150);
    return () => window.clearTimeout(t);
  }, []);
  useEffect(() => {
    if (!watching) return;
    // Progress while a sync runs; otherwise a slow look for what the background job found.
    const t = window.setInterval(() => void refreshWatch(), running ? 700 : 5000);
    return () => window.clearInterval(t);
  }, [watching, running]);

  function submit(e: FormEvent): void {
    e.preventDefault();
    if (draft.trim()) void addFolder(draft.trim()).then(() => setDraft(''));
  }

  const removed = status?.removed ?? [];
  return (
    <section className="panel watch-panel" aria-label="Watched folders" data-testid="watch-panel">
      <header className="panel-header">
        <h2>
          Watched folders{' '}
          <span className="muted small-print" data-testid="watch-summary">
            {watching
              ? `${plural(status!.folders.length, 'folder')}${running ? ' · syncing…' : status?.lastRun ? ` · synced ${formatDate(status.lastRun.at)}` : ''}`
              : 'off'}
          </span>
        </h2>
        <div className="toolbar">
          {watching && (
            <button className="button ghost small" onClick={() => void syncNow()} disabled={running}>
              Sync now
            </button>
          )}
          <button className="button ghost small" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? 'Close' : 'Manage'}
          </button>
        </div>
      </header>
      {running && status?.progress && (
        <progress max={Math.max(1, status.progress.total)} value={status.progress.done} aria-label="sync progress" data-testid="watch-progress" />
      )}
      {status?.lastRun && !running && (
        <p className="summary-line" data-testid="watch-last-run">
          Last sync: {status.lastRun.added} added · {status.lastRun.replaced} changed · {status.lastRun.unchanged} unchanged · {status.lastRun.failed} failed
        </p>
      )}
      {open && (
        <div className="watch-manage">
          <ul className="job-list folder-list">
            {status?.folders.map((f) => (
              <li key={f.path} className="job" data-testid="watched-folder">
                <div className="job-line">
                  <span className="job-name" title={displayName(f.path)}>
                    <Name text={f.path} />
                  </span>
                  {!f.present && <span className="error-text small-print">missing</span>}
                  <button className="button ghost small" onClick={() => void removeFolder(f.path)} aria-label={`Stop watching ${displayName(f.path)}`}>
                    Stop watching
                  </button>
                </div>
              </li>
            ))}
          </ul>
          <form className="toolbar" onSubmit={submit}>
            <input
              className="search-input wide"
              autoComplete="off"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              placeholder="/absolute/path/to/a/folder"
              aria-label="Folder to watch"
            />
            <button className="button small" type="submit" disabled={!draft.trim()}>
              Watch folder
            </button>
          </form>
          <p className="muted small-print">
            New and changed files are added in the background while this client is open. Files removed from a folder are listed here first.
          </p>
        </div>
      )}
      {removed.length > 0 && (
        <div className="failure-summary" role="status" data-testid="watch-removed">
          <h3>{plural(removed.length, 'file')} removed from watched folders</h3>
          <ul>
            {removed.map((r) => (
              <li key={r.documentId}>
                <strong>
                  <Name text={r.title} />
                </strong>{' '}
                <span className="muted">
                  <Name text={r.sourcePath} />
                </span>
              </li>
            ))}
          </ul>
          <button className="button small danger" onClick={() => setConfirming(true)}>
            Remove from library…
          </button>
        </div>
      )}
      {error && <p className="error-text">{error}</p>}
      {confirming && (
        <Dialog
          title="Remove these documents?"
          tone="danger"
          onClose={() => setConfirming(false)}
          footer={
            <>
              <button className="button ghost" onClick={() => setConfirming(false)}>
                Keep them
              </button>
              <button className="button danger-solid" onClick={() => void confirmRemoved(removed.map((r) => r.documentId)).then(() => setConfirming(false))}>
                Remove {plural(removed.length, 'document')}
              </button>
            </>
          }
        >
          <p>Their files are gone from the watched folders. Removing them deletes their passages from this client&apos;s library; this cannot be undone.</p>
        </Dialog>
      )}
    </section>
  );
}
