import { useEffect, useRef, useState } from 'react';
import { create } from 'zustand';
import { messageOf } from '../client.js';
import { NewTenantForm } from '../screens/TenantPicker.js';
import { openTenant, refreshTenants, useSession } from '../state/session.js';
import { Name } from './Name.js';

/** Whether the client menu is open: the switcher's button and Ctrl/Cmd-K both set it. */
export const useSwitcherMenu = create<{ open: boolean }>()(() => ({ open: false }));
const setOpen = (open: boolean): void => useSwitcherMenu.setState({ open });

/** The open client, always visible; in presentation mode it is a label and nothing else exists. */
export function TenantSwitcher() {
  const tenant = useSession((s) => s.status?.tenant);
  const presenting = useSession((s) => s.status?.presentation ?? false);
  const tenants = useSession((s) => s.tenants);
  const open = useSwitcherMenu((s) => s.open);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    void refreshTenants();
    const close = (e: MouseEvent): void => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => {
      window.removeEventListener('mousedown', close);
      // Other clients' names stay in memory only while the menu is open.
      useSession.setState({ tenants: [] });
    };
  }, [open]);

  if (!tenant) return null;
  const current = (
    <>
      <span className="swatch" style={{ background: tenant.colour }} aria-hidden="true" />
      <span className="switcher-name" data-testid="open-tenant-name">
        <Name text={tenant.name} />
      </span>
    </>
  );
  if (presenting) return <div className="switcher switcher-static">{current}</div>;
  return (
    <div className="switcher-box" ref={box}>
      <button className="switcher" onClick={() => setOpen(!open)} aria-haspopup="listbox" aria-expanded={open} data-testid="tenant-switcher">
        {current}
        <span className="chevron" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <div className="switcher-menu" role="listbox" aria-label="Clients">
          {tenants.map((t) => (
            <button
              key={t.id}
              role="option"
              aria-selected={t.id === tenant.id}
              className={`switcher-item ${t.id === tenant.id ? 'current' : ''}`}
              onClick={() => {
                setOpen(false);
                if (t.id !== tenant.id) void openTenant(t.id).catch((err: unknown) => setError(messageOf(err)));
              }}
            >
              <span className="swatch" style={{ background: t.colour }} aria-hidden="true" />
              <Name text={t.name} />
            </button>
          ))}
          <div className="switcher-new">
            <NewTenantForm onDone={() => setOpen(false)} />
          </div>
        </div>
      )}
      {error && <p className="error-text">{error}</p>}
    </div>
  );
}
