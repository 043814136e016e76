import { useEffect, useState } from 'react';
import { setScreen, useSession } from '../state/session.js';
import { useSwitcherMenu } from './TenantSwitcher.js';

function typingIn(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

/** Ctrl/Cmd-K opens the client switcher (not while presenting); "/" goes to the search field. */
export function Shortcuts() {
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    if (!note) return;
    const t = window.setTimeout(() => setNote(null), 2500);
    return () => window.clearTimeout(t);
  }, [note]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        // Presentation mode: no other client exists for the UI, so there is nothing to switch to.
        if (useSession.getState().status?.presentation) return setNote('Presentation mode: switching clients is off until you leave it.');
        if (document.querySelector('dialog[open]')) return;
        useSwitcherMenu.setState({ open: true });
        return;
      }
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(e.target) && !document.querySelector('dialog[open]')) {
        e.preventDefault();
        setScreen('search');
        requestAnimationFrame(() => document.getElementById('search-query')?.focus());
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return note ? (
    <div className="shortcut-note" role="status" data-testid="shortcut-note">
      {note}
    </div>
  ) : null;
}
