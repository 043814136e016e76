import { useState, type FormEvent } from 'react';
import { call, messageOf } from '../client.js';
import { applyStatus, useSession } from '../state/session.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

/** Enters presentation mode for the open client: the others vanish from the UI and from main's answers. */
export function PresentButton() {
  const tenant = useSession((s) => s.status?.tenant);
  const presenting = useSession((s) => s.status?.presentation ?? false);
  const [asking, setAsking] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (!tenant) return null;

  async function enter(): Promise<void> {
    try {
      applyStatus(await call('presentation.enter', { tenantId: tenant!.id }));
      // Names of other clients leave memory, not only the screen.
      useSession.setState({ tenants: [] });
    } catch (err) {
      setError(messageOf(err));
    }
  }

  async function exit(e: FormEvent): Promise<void> {
    e.preventDefault();
    try {
      applyStatus(await call('presentation.exit', { passphrase }));
      setAsking(false);
      setPassphrase('');
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  }

  if (!presenting) {
    return (
      <button className="nav-item" onClick={() => void enter()} data-testid="present">
        <span className="nav-icon">
          <Icon name="present" />
        </span>
        Present this client
      </button>
    );
  }
  return (
    <>
      <button className="nav-item presenting" onClick={() => setAsking(true)} data-testid="exit-present">
        <span className="nav-icon" aria-hidden="true">
          ●
        </span>
        Presenting · exit
      </button>
      {asking && (
        <Dialog
          title="Leave presentation mode"
          onClose={() => setAsking(false)}
          footer={
            <>
              <button className="button ghost" onClick={() => setAsking(false)}>
                Cancel
              </button>
              <button className="button primary" type="submit" form="exit-presentation">
                Leave
              </button>
            </>
          }
        >
          <form id="exit-presentation" onSubmit={(e) => void exit(e)}>
            <label className="field">
              <span>Passphrase</span>
              <input type="password" autoFocus value={passphrase} onChange={(e) => setPassphrase(e.target.value)} name="presentation-passphrase" />
            </label>
            {error && <p className="error-text">{error}</p>}
          </form>
        </Dialog>
      )}
    </>
  );
}
