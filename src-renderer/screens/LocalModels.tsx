// Settings: the model library (GGUF files on this computer, outside every client) and this
// client's choice of a library model for its chat, its embedder and its reranker, with the
// built-in runtime's load progress and the client's last answer's tokens per second.
import { useEffect, useState } from 'react';
import type { LibraryModelView, ModelLibraryView, RuntimeStatusView } from '../../src-shared/models.js';
import { call, messageOf } from '../client.js';
import { displayName, Name } from '../components/Name.js';
import { useSettings } from '../state/panels.js';

const POLL_MS = 1000;
const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

function useLibrary(): { library: ModelLibraryView | null; error: string | null } {
  const [library, setLibrary] = useState<ModelLibraryView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call('models.list', {}).then(setLibrary, (err: unknown) => setError(messageOf(err)));
  }, []);
  return { library, error };
}

/** Polled while Settings is open: load progress is the runtime's, the last answer is this client's. */
function useRuntimeStatus(): RuntimeStatusView | null {
  const [status, setStatus] = useState<RuntimeStatusView | null>(null);
  useEffect(() => {
    let live = true;
    const tick = (): void => {
      call('models.status', {}).then(
        (s) => live && setStatus(s),
        () => live && setStatus(null),
      );
    };
    tick();
    const timer = setInterval(tick, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  return status;
}

function Picker(props: {
  label: string;
  models: LibraryModelView[];
  current: string | null;
  offLabel?: string;
  action: string;
  onPick: (name: string | null) => Promise<void>;
}) {
  const [choice, setChoice] = useState<string>(props.current ?? '');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => setChoice(props.current ?? ''), [props.current]);
  const canPick = props.offLabel !== undefined || choice !== '';
  async function pick(): Promise<void> {
    setBusy(true);
    setMessage(null);
    try {
      await props.onPick(choice === '' ? null : choice);
      setMessage('Saved.');
    } catch (err) {
      setMessage(messageOf(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="stack">
      <label className="field">
        <span>{props.label}</span>
        <select value={choice} onChange={(e) => setChoice(e.target.value)} aria-label={props.label}>
          <option value="">{props.offLabel ?? 'Choose a model'}</option>
          {props.models.map((m) => (
            <option key={m.name} value={m.name}>
              {displayName(m.name)}
            </option>
          ))}
        </select>
      </label>
      <div className="row-gap">
        <button className="button" type="button" disabled={busy || !canPick || choice === (props.current ?? '')} onClick={() => void pick()}>
          {busy ? 'Working…' : props.action}
        </button>
        {props.current && <span className="muted small-print">In use: {props.current}</span>}
      </div>
      {message && <p className="muted">{message}</p>}
    </div>
  );
}

function RuntimeStatusLine({ status }: { status: RuntimeStatusView | null }) {
  if (!status) return null;
  return (
    <div className="stack" data-testid="runtime-status">
      {status.loading.map((l) => (
        <div key={l.model}>
          <span className="small-print">
            Loading {l.model}: {Math.round(l.progress * 100)}%
          </span>
          <progress max={1} value={l.progress} aria-label={`Loading ${l.model}`} />
        </div>
      ))}
      <p className="muted small-print">
        Runtime: {status.backend ?? 'not started'}
        {status.loaded.length > 0 && ` · loaded ${status.loaded.map((l) => `${l.model} (${Math.round(l.loadMs)} ms)`).join(', ')}`}
        {status.queue > 0 && ` · ${status.queue} waiting`}
      </p>
      {status.lastTurn && (
        <p className="small-print" data-testid="tokens-per-second">
          Last answer: {status.lastTurn.tokens} tokens at {status.lastTurn.tokensPerS.toFixed(1)} tokens/s with {status.lastTurn.model}
          {status.lastTurn.firstTokenMs !== null && `, first token after ${Math.round(status.lastTurn.firstTokenMs)} ms`}
        </p>
      )}
    </div>
  );
}

export function LocalModelsSection() {
  const { settings } = useSettings();
  const { library, error } = useLibrary();
  const status = useRuntimeStatus();
  const models = library?.models ?? [];
  const ofKind = (kind: LibraryModelView['kind']): LibraryModelView[] => models.filter((m) => m.kind === kind);
  const embedder = settings?.embedder.kind === 'builtin' ? settings.embedder.model : null;
  const save = async (p: Promise<NonNullable<ReturnType<typeof useSettings.getState>['settings']>>): Promise<void> => {
    useSettings.setState({ settings: await p });
  };

  return (
    <section className="panel settings-section local-models" aria-label="Local models">
      <h2>Local models</h2>
      <p className="muted small-print">
        GGUF models on this computer, run inside Bulkhead. The files are shared; what a model holds while it answers belongs to this client and is cleared when
        you switch.
      </p>
      {error && <p className="error-text">{error}</p>}
      {library && models.length === 0 && <p className="muted">No models yet: add one with bulkhead models add FILE|URL.</p>}
      {models.length > 0 && (
        <div className="table-wrap">
          <table className="doc-table model-table" aria-label="Model library">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>Architecture</th>
                <th>Context</th>
                <th>Quantisation</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.name}>
                  <td>
                    <Name text={m.name} />
                  </td>
                  <td>{m.kind}</td>
                  <td>{m.architecture}</td>
                  <td>{m.contextLength ?? '–'}</td>
                  <td>{m.quantisation}</td>
                  <td>{mib(m.sizeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {library?.broken.map((b) => (
        <p key={b.name} className="muted small-print">
          Unusable: <Name text={b.name} /> ({b.message})
        </p>
      ))}
      <Picker
        label="Chat model for this client"
        models={ofKind('chat')}
        current={settings?.model?.builtin ?? null}
        action="Use for chat"
        onPick={(name) => save(call('settings.setBuiltinModel', { model: name! }))}
      />
      <Picker
        label="Embedding model for this client"
        models={ofKind('embedding')}
        current={embedder}
        action="Use and re-index"
        onPick={(name) => save(call('settings.setEmbedder', { embedder: { kind: 'builtin', model: name! } }))}
      />
      <Picker
        label="Reranker for this client"
        models={ofKind('reranking')}
        current={settings?.reranker ?? null}
        offLabel="Off"
        action="Save reranker"
        onPick={(name) => save(call('settings.setReranker', { model: name }))}
      />
      <RuntimeStatusLine status={status} />
    </section>
  );
}
