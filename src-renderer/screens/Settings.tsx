import { useEffect, useState, type FormEvent } from 'react';
import { call, messageOf } from '../client.js';
import { Dialog } from '../components/Dialog.js';
import { loadSettings, useSettings } from '../state/panels.js';
import { applyStatus, useSession } from '../state/session.js';
import { HeldEndpointsSection } from './HeldEndpoints.js';
import { ConnectorsSection } from './ConnectorsPanel.js';
import { LocalModelsSection } from './LocalModels.js';

function ClientSection() {
  const tenant = useSession((s) => s.status?.tenant);
  const presenting = useSession((s) => s.status?.presentation ?? false);
  const [name, setName] = useState(tenant?.name ?? '');
  const [message, setMessage] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [confirmName, setConfirmName] = useState('');
  if (!tenant) return null;

  async function rename(e: FormEvent): Promise<void> {
    e.preventDefault();
    try {
      await call('tenants.rename', { tenantId: tenant!.id, name });
      applyStatus(await call('vault.status', {}));
      setMessage('Renamed.');
    } catch (err) {
      setMessage(messageOf(err));
    }
  }

  async function remove(): Promise<void> {
    try {
      await call('tenants.delete', { tenantId: tenant!.id, confirmName });
      setDeleting(false);
      applyStatus(await call('vault.status', {}));
    } catch (err) {
      setMessage(messageOf(err));
    }
  }

  return (
    <section className="panel settings-section" aria-label="Client">
      <h2>Client</h2>
      <form className="inline-form" onSubmit={(e) => void rename(e)}>
        <span className="swatch" style={{ background: tenant.colour }} aria-hidden="true" />
        <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Client name" disabled={presenting} maxLength={100} />
        <button className="button" type="submit" disabled={presenting || name.trim() === '' || name === tenant.name}>
          Rename
        </button>
      </form>
      <p className="muted small-print">
        {tenant.documents.toLocaleString()} documents · {tenant.chunks.toLocaleString()} passages · created {new Date(tenant.createdAt).toLocaleDateString()}
      </p>
      {message && <p className="muted">{message}</p>}
      <div className="danger-zone">
        <div>
          <strong>Delete this client</strong>
          <p className="muted small-print">Destroys its key, then its file: nothing of it can be recovered, even from a backup of the vault.</p>
        </div>
        <button className="button danger" onClick={() => setDeleting(true)} disabled={presenting}>
          Delete client…
        </button>
      </div>
      {deleting && (
        <Dialog
          title="Delete this client for good?"
          tone="danger"
          onClose={() => setDeleting(false)}
          footer={
            <>
              <button className="button ghost" onClick={() => setDeleting(false)}>
                Cancel
              </button>
              <button className="button danger-solid" disabled={confirmName !== tenant.name} onClick={() => void remove()}>
                Delete client
              </button>
            </>
          }
        >
          <p>Type the client&apos;s name to confirm.</p>
          <input value={confirmName} onChange={(e) => setConfirmName(e.target.value)} aria-label="Type the client name" autoFocus />
        </Dialog>
      )}
    </section>
  );
}

function EmbedderSection() {
  const { settings, error } = useSettings();
  const [kind, setKind] = useState<'hash' | 'ollama' | 'openai' | 'builtin'>('hash');
  const [baseUrl, setBaseUrl] = useState('http://127.0.0.1:11434');
  const [model, setModel] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    if (!settings) return;
    setKind(settings.embedder.kind);
    if (settings.embedder.kind === 'builtin') setModel(settings.embedder.model);
    else if (settings.embedder.kind !== 'hash') {
      setBaseUrl(settings.embedder.baseUrl);
      setModel(settings.embedder.model);
    }
  }, [settings]);

  async function save(e: FormEvent): Promise<void> {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const embedder = kind === 'hash' ? { kind } : kind === 'builtin' ? { kind, model } : { kind, baseUrl, model };
      useSettings.setState({ settings: await call('settings.setEmbedder', { embedder }) });
      setMessage('Saved; every passage now has vectors from this embedder.');
    } catch (err) {
      setMessage(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel settings-section" aria-label="Embedder">
      <h2>Embedder</h2>
      <p className="muted small-print">Turns passages into vectors for search by meaning. The built-in one needs no model and works offline.</p>
      {error && <p className="error-text">{error}</p>}
      <form onSubmit={(e) => void save(e)} className="stack">
        <div className="segmented" role="radiogroup" aria-label="Embedder kind">
          {(['hash', 'ollama', 'openai', 'builtin'] as const).map((k) => (
            <label key={k} className={kind === k ? 'active' : ''}>
              <input type="radio" name="embedder-kind" checked={kind === k} onChange={() => setKind(k)} />
              {k === 'hash' ? 'Built-in (offline)' : k === 'ollama' ? 'Ollama' : k === 'openai' ? 'OpenAI-compatible' : 'Library model'}
            </label>
          ))}
        </div>
        {kind === 'hash' && (
          <p className="muted small-print" data-testid="embedder-tuning">
            {settings?.embedder.kind === 'hash' && settings.embedder.tunedOnChunks !== undefined
              ? `Tuned to this client's vocabulary, learnt from its ${settings.embedder.tunedOnChunks.toLocaleString()} passages and kept in its own file.`
              : "Learns this client's vocabulary by itself once it holds 500 passages, and again each time they double."}
          </p>
        )}
        {kind === 'builtin' && (
          <p className="muted small-print">
            {settings?.embedder.kind === 'builtin' ? `Vectors come from ${settings.embedder.model}, a model of the library. ` : ''}Choose the embedding model
            under Local models.
          </p>
        )}
        {kind !== 'hash' && kind !== 'builtin' && (
          <>
            <label className="field">
              <span>Endpoint</span>
              <input value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="http://127.0.0.1:11434" />
            </label>
            <label className="field">
              <span>Model</span>
              <input value={model} onChange={(e) => setModel(e.target.value)} placeholder="nomic-embed-text" />
            </label>
          </>
        )}
        <div>
          <button className="button primary" type="submit" disabled={busy || kind === 'builtin'}>
            {busy ? 'Re-indexing…' : 'Save and re-index'}
          </button>
        </div>
        {message && <p className="muted">{message}</p>}
      </form>
    </section>
  );
}

function ModelSection() {
  const { settings } = useSettings();
  const [baseUrl, setBaseUrl] = useState('');
  const [model, setModel] = useState('');
  const [localOnly, setLocalOnly] = useState(true);
  const [apiKey, setApiKey] = useState('');
  const [removeKey, setRemoveKey] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    const m = settings?.model;
    if (!m) return;
    if (m.baseUrl) setBaseUrl(m.baseUrl);
    if (m.name) setModel(m.name);
    setLocalOnly(m.localOnly);
  }, [settings]);

  async function save(e: FormEvent): Promise<void> {
    e.preventDefault();
    setMessage(null);
    try {
      // An empty key field keeps the stored key (with the same endpoint); '' removes it.
      const key = removeKey ? { apiKey: '' } : apiKey.trim() !== '' ? { apiKey: apiKey.trim() } : {};
      useSettings.setState({ settings: await call('settings.setModel', { model: { baseUrl, name: model, localOnly, ...key } }) });
      setApiKey('');
      setRemoveKey(false);
      setMessage('Saved.');
    } catch (err) {
      setMessage(messageOf(err));
    }
  }
  async function test(): Promise<void> {
    setMessage('Testing…');
    try {
      const r = await call('settings.testModel', {});
      setMessage(r.ok ? `Connected: ${r.detail}` : `Not reachable: ${r.detail}`);
    } catch (err) {
      setMessage(messageOf(err));
    }
  }

  return (
    <section className="panel settings-section" aria-label="Chat model">
      <h2>Chat model</h2>
      <p className="muted small-print">
        This client&apos;s own OpenAI-compatible endpoint (Ollama, llama.cpp, LM Studio, vLLM), model and API key, kept in its encrypted file and used for it
        only. Without one, answers list the best passages.
      </p>
      {settings?.model?.builtin && (
        <p className="small-print" data-testid="chat-builtin">
          Answers now come from {settings.model.builtin}, a local model (see Local models). Saving an endpoint here replaces it.
        </p>
      )}
      <form onSubmit={(e) => void save(e)} className="stack">
        <label className="field">
          <span>Endpoint</span>
          <input value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="http://127.0.0.1:11434/v1" />
        </label>
        <label className="field">
          <span>Model</span>
          <input value={model} onChange={(e) => setModel(e.target.value)} placeholder="llama3.1:8b" />
        </label>
        <label className="field">
          <span>API key</span>
          <input
            type="password"
            autoComplete="off"
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
            placeholder={settings?.model?.hasApiKey ? 'set (leave empty to keep)' : 'none (local servers need none)'}
            aria-label="API key"
          />
        </label>
        {settings?.model?.hasApiKey && (
          <label className="check">
            <input type="checkbox" checked={removeKey} onChange={(e) => setRemoveKey(e.target.checked)} />
            <span>Remove the stored key</span>
          </label>
        )}
        <label className="check">
          <input type="checkbox" checked={localOnly} onChange={(e) => setLocalOnly(e.target.checked)} />
          <span>Local models only for this client: its documents never go to an endpoint off this computer</span>
        </label>
        <div className="row-gap">
          <button className="button primary" type="submit" disabled={!model.trim() || !baseUrl.trim()}>
            Save
          </button>
          <button className="button" type="button" onClick={() => void test()}>
            Test connection
          </button>
        </div>
        {message && <p className="muted">{message}</p>}
      </form>
    </section>
  );
}

function SecuritySection() {
  const status = useSession((s) => s.status);
  const [passphrase, setPassphrase] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  if (!status) return null;
  const { keychain, idleLockSeconds, presentation } = status;

  async function enable(e: FormEvent): Promise<void> {
    e.preventDefault();
    try {
      applyStatus(await call('keychain.enable', { passphrase }));
      setPassphrase('');
      setMessage('This computer’s keychain can now unlock the vault.');
    } catch (err) {
      setMessage(messageOf(err));
    }
  }
  async function disable(): Promise<void> {
    try {
      applyStatus(await call('keychain.disable', {}));
      setMessage('Keychain unlock is off; the passphrase is needed again.');
    } catch (err) {
      setMessage(messageOf(err));
    }
  }

  return (
    <section className="panel settings-section" aria-label="Security">
      <h2>Security</h2>
      <p className="muted small-print">
        The vault locks itself after {Math.round(idleLockSeconds / 60)} minute{idleLockSeconds >= 120 ? 's' : ''} without input, and every client&apos;s data
        leaves this window.
      </p>
      <h3>Unlock with the system keychain</h3>
      {!keychain.supported ? (
        <p className="muted small-print">{keychain.reason ? `${keychain.reason.charAt(0).toUpperCase() + keychain.reason.slice(1)}.` : null}</p>
      ) : keychain.enabled ? (
        <button className="button" onClick={() => void disable()} disabled={presentation}>
          Turn off keychain unlock
        </button>
      ) : (
        <form className="inline-form" onSubmit={(e) => void enable(e)}>
          <input
            type="password"
            placeholder="Passphrase"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            aria-label="Passphrase to turn on keychain unlock"
          />
          <button className="button" type="submit" disabled={!passphrase || presentation}>
            Turn on
          </button>
        </form>
      )}
      {message && <p className="muted">{message}</p>}
    </section>
  );
}

export function SettingsScreen() {
  useEffect(() => {
    void loadSettings();
  }, []);
  return (
    <div className="screen">
      <header className="screen-header">
        <div>
          <h1>Settings</h1>
          <p className="muted">Client settings, its chat model and API key included, live in the client&apos;s encrypted file and serve that client only.</p>
        </div>
      </header>
      <div className="settings-grid">
        <ClientSection />
        <HeldEndpointsSection />
        <ModelSection />
        <LocalModelsSection />
        <EmbedderSection />
        <SecuritySection />
        <ConnectorsSection />
      </div>
    </div>
  );
}
