import { useEffect, useState, type FormEvent } from 'react';
import type { ConnectorsOverviewData, ConnectorViewData } from '../../src-shared/connectors.js';
import { call, messageOf } from '../client.js';
import { displayName, Name } from '../components/Name.js';
import { useSession } from '../state/session.js';

// Settings › Tool connectors: the open client's MCP servers, their tools (off until allowed) and
// the tool path's lock. Credentials are typed in here and never shown again (only their names).

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function pairs(text: string): Record<string, string> {
  return Object.fromEntries(lines(text).map((l) => [l.slice(0, Math.max(0, l.indexOf('='))) || l, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
}

function ConnectorCard({ c, onChange, onMessage }: { c: ConnectorViewData; onChange: () => Promise<void>; onMessage: (m: string) => void }) {
  const presenting = useSession((s) => s.status?.presentation ?? false);
  async function run(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
      await onChange();
    } catch (err) {
      onMessage(messageOf(err));
    }
  }
  return (
    <li className="connector" aria-label={`Connector ${displayName(c.name)}`} style={{ marginBottom: 12 }}>
      <div className="inline-form">
        <strong>
          <Name text={c.name} />
        </strong>
        <span className="muted small-print">
          {c.kind} · {c.target} · sandbox {c.sandbox} · network {c.network ? 'allowed' : 'none'} · {c.running ? 'running' : 'stopped'}
        </span>
        <button
          className="button"
          disabled={presenting}
          onClick={() => void run(async () => onMessage((await call('connectors.test', { connectorId: c.id })).detail))}
        >
          Test
        </button>
        <button className="button danger" disabled={presenting} onClick={() => void run(() => call('connectors.remove', { connectorId: c.id }))}>
          Remove
        </button>
      </div>
      {c.sandbox.startsWith('none') && <p className="banner banner-bad">This connector runs without a sandbox: it can read and write what you can.</p>}
      {(c.envNames.length > 0 || c.headerNames.length > 0) && <p className="muted small-print">Credentials: {[...c.envNames, ...c.headerNames].join(', ')}</p>}
      {c.tools.length === 0 ? (
        <p className="muted small-print">No tools known yet: Test lists them (each starts off).</p>
      ) : (
        <ul className="connector-tools" style={{ listStyle: 'none', paddingLeft: 0 }}>
          {c.tools.map((t) => (
            <li key={t.name}>
              <label>
                <input
                  type="checkbox"
                  checked={t.allowed}
                  disabled={presenting}
                  onChange={(e) => void run(() => call('connectors.setTool', { connectorId: c.id, tool: t.name, allowed: e.target.checked }))}
                />{' '}
                <Name text={t.name} />{' '}
                <span className="muted small-print">
                  {t.readOnly ? 'read-only' : 'asks you before each call'}
                  {t.changed ? ' · its declaration changed: review it' : ''}
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function AddConnector({ onAdded, onMessage }: { onAdded: () => Promise<void>; onMessage: (m: string) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'stdio' | 'http'>('stdio');
  const [where, setWhere] = useState('');
  const [args, setArgs] = useState('');
  const [secrets, setSecrets] = useState('');
  const [reads, setReads] = useState('');
  const [network, setNetwork] = useState(false);
  const [unsandboxed, setUnsandboxed] = useState(false);

  async function add(e: FormEvent): Promise<void> {
    e.preventDefault();
    try {
      const target =
        kind === 'stdio'
          ? { kind, command: where, args: lines(args), env: pairs(secrets), readOnlyPaths: lines(reads), network, unsandboxed }
          : { kind, url: where, headers: pairs(secrets) };
      await call('connectors.add', { name, target });
      setName('');
      setWhere('');
      setArgs('');
      setSecrets('');
      setReads('');
      await onAdded();
    } catch (err) {
      onMessage(messageOf(err));
    }
  }

  return (
    <form className="stack-form" onSubmit={(e) => void add(e)} aria-label="Add a connector">
      <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name (e.g. tickets)" aria-label="Connector name" maxLength={24} />
      <select value={kind} onChange={(e) => setKind(e.target.value as 'stdio' | 'http')} aria-label="Connector kind">
        <option value="stdio">Local program (stdio, sandboxed)</option>
        <option value="http">Streamable HTTP URL</option>
      </select>
      <input
        value={where}
        onChange={(e) => setWhere(e.target.value)}
        placeholder={kind === 'stdio' ? '/absolute/path/to/program' : 'https://…/mcp'}
        aria-label="Command or URL"
      />
      {kind === 'stdio' && <textarea value={args} onChange={(e) => setArgs(e.target.value)} placeholder="arguments, one per line" aria-label="Arguments" />}
      <textarea
        value={secrets}
        onChange={(e) => setSecrets(e.target.value)}
        placeholder={kind === 'stdio' ? 'environment, NAME=value per line' : 'headers, Name=value per line'}
        aria-label="Credentials"
      />
      {kind === 'stdio' && (
        <>
          <textarea value={reads} onChange={(e) => setReads(e.target.value)} placeholder="paths it may read, one per line" aria-label="Readable paths" />
          <label>
            <input type="checkbox" checked={network} onChange={(e) => setNetwork(e.target.checked)} /> Allow network
          </label>
          <label>
            <input type="checkbox" checked={unsandboxed} onChange={(e) => setUnsandboxed(e.target.checked)} /> Run unsandboxed where no sandbox exists
          </label>
        </>
      )}
      <button className="button" type="submit" disabled={name.trim() === '' || where.trim() === ''}>
        Add connector
      </button>
    </form>
  );
}

export function ConnectorsSection() {
  const tenantId = useSession((s) => s.status?.tenant?.id);
  const presenting = useSession((s) => s.status?.presentation ?? false);
  const [overview, setOverview] = useState<ConnectorsOverviewData | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function load(): Promise<void> {
    try {
      setOverview(await call('connectors.list', {}));
    } catch (err) {
      setMessage(messageOf(err));
    }
  }
  useEffect(() => {
    setOverview(null);
    if (tenantId) void load();
  }, [tenantId]);
  if (!tenantId || !overview) return null;

  async function unlock(): Promise<void> {
    try {
      setOverview(await call('connectors.unlock', {}));
    } catch (err) {
      setMessage(messageOf(err));
    }
  }

  const locked = overview.guard.locked;
  return (
    <section className="panel settings-section" aria-label="Tool connectors">
      <h2>Tool connectors</h2>
      {locked && (
        <div className="banner banner-bad" role="alert">
          Tools locked since {new Date(locked.at).toLocaleString()}: {locked.count} {locked.reason === 'calls' ? 'tool calls' : 'refused calls'} within five
          minutes. Review the audit trail, then{' '}
          <button className="button" disabled={presenting} onClick={() => void unlock()}>
            Unlock tools
          </button>
        </div>
      )}
      {!overview.sandboxAvailable && <p className="banner banner-bad">No sandbox on this machine: local connectors run only if marked to run unsandboxed.</p>}
      <p className="muted small-print">
        This client&apos;s MCP servers. Their credentials stay in its encrypted file; new tools are off until you allow them; tools that change anything ask you
        first. More than {overview.guard.maxCalls} calls or {overview.guard.maxRefusals} refusals in five minutes lock the tools.
      </p>
      <ul className="connector-list" style={{ listStyle: 'none', paddingLeft: 0 }}>
        {overview.connectors.map((c) => (
          <ConnectorCard key={c.id} c={c} onChange={load} onMessage={setMessage} />
        ))}
      </ul>
      {!presenting && <AddConnector onAdded={load} onMessage={setMessage} />}
      {message && <p className="muted">{message}</p>}
    </section>
  );
}
