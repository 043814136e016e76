import { formatDate } from '../components/format.js';
import { runIsolationCheck, useIsolation } from '../state/isolation.js';
import { useSession } from '../state/session.js';
import { Name } from '../components/Name.js';

export function IsolationScreen() {
  const { running, progress, report, error } = useIsolation();
  const presenting = useSession((s) => s.status?.presentation ?? false);
  const failed = report ? report.controls.filter((c) => !c.pass).length : 0;
  return (
    <div className="screen">
      <header className="screen-header">
        <div>
          <h1>Isolation check</h1>
          <p className="muted">
            Plants a random canary in a scratch client, tries to reach it from every other client (search, the agent’s tools, the model’s context, caches),
            scans every file in the data folder for it, and checks keys and audit chains. No client’s content is changed.
          </p>
        </div>
        <button className="button" onClick={() => void runIsolationCheck()} disabled={running || presenting} data-testid="run-isolation">
          {running ? 'Running…' : 'Run isolation self-test'}
        </button>
      </header>
      {presenting && <p className="muted">Not available in presentation mode.</p>}
      {running && (
        <div className="banner" aria-live="polite" data-testid="isolation-progress">
          {progress.at(-1) ?? 'starting'}…
        </div>
      )}
      {error && <p className="error-text">{error}</p>}
      {report && (
        <>
          {report.passed ? (
            <div className="banner banner-ok" data-testid="isolation-verdict">
              <strong>All controls passed</strong> · {report.controls.length} controls over {report.tenants} clients
            </div>
          ) : (
            <div className="banner banner-bad" role="alert" data-testid="isolation-verdict">
              <strong>
                {failed} {failed === 1 ? 'control' : 'controls'} failed
              </strong>{' '}
              of {report.controls.length}
            </div>
          )}
          <div className="table-wrap">
            <table className="doc-table isolation-table" aria-label="Isolation controls">
              <thead>
                <tr>
                  <th>Result</th>
                  <th>Control</th>
                  <th>What was tried</th>
                  <th className="num">Attempts</th>
                  <th>Findings</th>
                </tr>
              </thead>
              <tbody>
                {report.controls.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <span className={`kind-tag ${c.pass ? 'verdict-pass' : 'verdict-fail'}`}>{c.pass ? 'PASS' : 'FAIL'}</span>
                    </td>
                    <td>
                      <Name text={c.title} />
                    </td>
                    <td className="muted">{c.tried}</td>
                    <td className="num">{c.attempts}</td>
                    <td className="muted mono">{c.findings.length === 0 ? '—' : c.findings.join('\n')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted report-meta">
            Bulkhead {report.appVersion} · started {formatDate(report.startedAt)} · finished {formatDate(report.finishedAt)}
          </p>
          <p className="muted mono report-meta" data-testid="isolation-sha">
            SHA-256 {report.sha256}
          </p>
          <p className="muted mono report-meta">
            Report written to {report.files.html}
            <br />
            and {report.files.json}
          </p>
        </>
      )}
    </div>
  );
}
