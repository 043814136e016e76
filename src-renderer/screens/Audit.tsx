import { useEffect } from 'react';
import { formatDate } from '../components/format.js';
import { loadAudit, useAudit } from '../state/panels.js';

export function AuditScreen() {
  const { records, verification, loading, error } = useAudit();
  useEffect(() => {
    void loadAudit();
  }, []);
  return (
    <div className="screen">
      <header className="screen-header">
        <div>
          <h1>Audit trail</h1>
          <p className="muted">
            Every open, ingest, search, model call and deletion for this client, chained so that no record can be changed or removed unseen.
          </p>
        </div>
        <button className="button ghost" onClick={() => void loadAudit()} disabled={loading}>
          Verify again
        </button>
      </header>
      {error && <p className="error-text">{error}</p>}
      {verification &&
        (verification.ok ? (
          <div className="banner banner-ok" data-testid="chain-status">
            <strong>Chain verified</strong> · {verification.count.toLocaleString()} records, none altered or missing
          </div>
        ) : (
          <div className="banner banner-bad" role="alert" data-testid="chain-status">
            <strong>Chain broken</strong> at record {verification.firstBadSeq}: {verification.reason}
          </div>
        ))}
      <div className="table-wrap">
        <table className="doc-table audit-table" aria-label="Audit records">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>When</th>
              <th>Event</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {[...records].reverse().map((r) => (
              <tr key={r.seq}>
                <td className="num">{r.seq}</td>
                <td className="muted">{formatDate(r.at)}</td>
                <td>
                  <span className="kind-tag">{r.kind}</span>
                </td>
                <td className="muted mono">
                  {Object.entries(r.data)
                    .map(([k, v]) => `${k}=${String(v)}`)
                    .join('  ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
