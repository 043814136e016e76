import { useState } from 'react';
import { call, messageOf } from '../client.js';
import { useSettings } from '../state/panels.js';

/**
 * Stored endpoints this client's egress sends nothing to until the user confirms them: one that
 * broke "local models only" when the client was opened, or one that came with an imported bundle.
 */
export function HeldEndpointsSection() {
  const { settings } = useSettings();
  const [message, setMessage] = useState<string | null>(null);
  const held = settings?.held ?? [];
  if (held.length === 0) return null;

  async function confirm(slot: 'embedder' | 'chat' | undefined): Promise<void> {
    setMessage(null);
    try {
      useSettings.setState({ settings: await call('settings.confirmEndpoints', slot ? { slot } : {}) });
      setMessage('Confirmed: this endpoint may be used again.');
    } catch (err) {
      setMessage(messageOf(err));
    }
  }

  return (
    <section className="panel settings-section" aria-label="Endpoints on hold">
      <h2>Endpoints on hold</h2>
      <p className="muted small-print">
        Nothing of this client is sent to these until you confirm them. Under &quot;local models only&quot; an endpoint off this computer cannot be confirmed.
      </p>
      <ul className="stack">
        {held.map((h) => (
          <li key={`${h.slot} ${h.url}`} className="row-gap">
            <span>
              <strong>{h.slot === 'chat' ? 'Chat model' : h.slot === 'embedder' ? 'Embedder' : h.slot}</strong> {h.url}
              <span className="muted small-print"> ({h.reason === 'imported' ? 'came with an imported bundle' : 'broke "local models only"'})</span>
            </span>
            <button className="button" type="button" onClick={() => void confirm(h.slot === 'chat' || h.slot === 'embedder' ? h.slot : undefined)}>
              Confirm
            </button>
          </li>
        ))}
      </ul>
      {message && <p className="muted">{message}</p>}
    </section>
  );
}
