import { useEffect, useState, type FormEvent } from 'react';
import { call, messageOf } from '../client.js';
import { lock, openTenant, refreshTenants, useSession } from '../state/session.js';
import { Name } from '../components/Name.js';

export function NewTenantForm({ onDone }: { onDone?: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    setError(null);
    try {
      const t = await call('tenants.create', { name });
      setName('');
      await openTenant(t.id);
      onDone?.();
    } catch (err) {
      setError(messageOf(err));
    }
  }
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} aria-label="New client">
      <input placeholder="New client name" value={name} onChange={(e) => setName(e.target.value)} name="tenant-name" maxLength={100} />
      <button className="button primary" type="submit" disabled={name.trim() === ''}>
        Create client
      </button>
      {error && <p className="error-text">{error}</p>}
    </form>
  );
}

/** Unlocked, no client open: choose one (or create the first). */
export function TenantPicker() {
  const tenants = useSession((s) => s.tenants);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    refreshTenants().catch((err: unknown) => setError(messageOf(err)));
  }, []);

  async function samples(): Promise<void> {
    setBusy(true);
    try {
      await call('tenants.createSamples', {});
      await refreshTenants();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="center-screen">
      <section className="card picker-card" aria-label="Choose a client">
        <header className="picker-header">
          <div>
            <div className="eyebrow">Vault unlocked</div>
            <h1>Open a client</h1>
          </div>
          <button className="button ghost" onClick={() => void lock()}>
            Lock
          </button>
        </header>
        {tenants.length === 0 ? (
          <div className="empty">
            <p>No clients yet. Create one, or add two sample clients to look around.</p>
            <button className="button" disabled={busy} onClick={() => void samples()}>
              {busy ? 'Adding samples…' : 'Add sample clients'}
            </button>
          </div>
        ) : (
          <ul className="tenant-grid">
            {tenants.map((t) => (
              <li key={t.id}>
                <button className="tenant-tile" onClick={() => void openTenant(t.id).catch((err: unknown) => setError(messageOf(err)))}>
                  <span className="swatch" style={{ background: t.colour }} aria-hidden="true" />
                  <span className="tenant-tile-name">
                    <Name text={t.name} />
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <NewTenantForm />
        {error && <p className="error-text">{error}</p>}
      </section>
    </main>
  );
}
