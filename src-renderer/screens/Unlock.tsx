import { useState, type FormEvent } from 'react';
import { messageOf } from '../client.js';
import { call } from '../client.js';
import { applyStatus, initialize, unlock, useSession } from '../state/session.js';

function Brand() {
  return (
    <div className="brand brand-large">
      <span className="brand-mark" aria-hidden="true" />
      <span>Bulkhead</span>
    </div>
  );
}

export function UnlockScreen() {
  const keychain = useSession((s) => s.status?.keychain);
  const presenting = useSession((s) => s.status?.presentation ?? false);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unlock(passphrase);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <main className="center-screen">
      <form className="card auth-card" onSubmit={(e) => void submit(e)} aria-label="Unlock">
        <Brand />
        <h1>Unlock your vault</h1>
        <p className="muted">Each client is kept in its own encrypted file. Your passphrase opens the keyring on this computer.</p>
        <label className="field">
          <span>Passphrase</span>
          <input
            type="password"
            autoFocus
            autoComplete="current-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            name="passphrase"
          />
        </label>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button className="button primary wide" disabled={busy || passphrase.length === 0} type="submit">
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
        {presenting && <p className="muted small-print">Presentation mode: the passphrase is needed to see the other clients again.</p>}
        {keychain?.enabled && keychain.supported && !presenting && (
          <button
            className="button ghost wide keychain-button"
            type="button"
            disabled={busy}
            onClick={() => {
              setError(null);
              call('vault.unlockWithKeychain', {})
                .then(applyStatus)
                .catch((err: unknown) => setError(messageOf(err)));
            }}
          >
            Unlock with the system keychain
          </button>
        )}
      </form>
    </main>
  );
}

export function FirstRunScreen() {
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [samples, setSamples] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = confirm.length > 0 && confirm !== passphrase;

  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    if (passphrase !== confirm) return;
    setBusy(true);
    setError(null);
    try {
      await initialize(passphrase, samples);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <main className="center-screen">
      <form className="card auth-card" onSubmit={(e) => void submit(e)} aria-label="Create vault">
        <Brand />
        <h1>Welcome to Bulkhead</h1>
        <p className="muted">
          Choose a passphrase for this computer&apos;s vault. It cannot be recovered: without it, your clients&apos; files stay encrypted for good.
        </p>
        <label className="field">
          <span>Passphrase</span>
          <input
            type="password"
            autoFocus
            autoComplete="new-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            name="new-passphrase"
          />
          <small className="muted">At least 8 characters; a few unrelated words work well.</small>
        </label>
        <label className="field">
          <span>Repeat passphrase</span>
          <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} name="confirm-passphrase" />
          {mismatch && <small className="error-text">The two passphrases differ.</small>}
        </label>
        <label className="check">
          <input type="checkbox" checked={samples} onChange={(e) => setSamples(e.target.checked)} name="samples" />
          <span>Add two sample clients with a few documents, to try everything at once</span>
        </label>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button className="button primary wide" disabled={busy || passphrase.length < 8 || passphrase !== confirm} type="submit">
          {busy ? 'Creating your vault…' : 'Create vault'}
        </button>
      </form>
    </main>
  );
}
