import { useEffect, useState } from 'react';
import { messageOf } from './client.js';
import { Icon, type IconName } from './components/Icon.js';
import { DocumentReader } from './components/DocumentReader.js';
import { PassageDrawer } from './components/PassageDrawer.js';
import { Shortcuts } from './components/Shortcuts.js';
import { PresentButton } from './components/Presentation.js';
import { TenantSwitcher } from './components/TenantSwitcher.js';
import { useIdleLock } from './components/useIdleLock.js';
import { AuditScreen } from './screens/Audit.js';
import { ChatScreen } from './screens/Chat.js';
import { IsolationScreen } from './screens/Isolation.js';
import { LibraryScreen } from './screens/Library.js';
import { SearchScreen } from './screens/Search.js';
import { SettingsScreen } from './screens/Settings.js';
import { TenantPicker } from './screens/TenantPicker.js';
import { FirstRunScreen, UnlockScreen } from './screens/Unlock.js';
import { lock, refreshStatus, setScreen, useSession, type Screen } from './state/session.js';

const NAV: { screen: Screen; label: string; icon: IconName }[] = [
  { screen: 'library', label: 'Library', icon: 'library' },
  { screen: 'search', label: 'Search', icon: 'search' },
  { screen: 'chat', label: 'Ask', icon: 'ask' },
  { screen: 'audit', label: 'Audit trail', icon: 'audit' },
  { screen: 'isolation', label: 'Isolation check', icon: 'isolation' },
  { screen: 'settings', label: 'Settings', icon: 'settings' },
];

function CurrentScreen({ screen }: { screen: Screen }) {
  switch (screen) {
    case 'library':
      return <LibraryScreen />;
    case 'search':
      return <SearchScreen />;
    case 'chat':
      return <ChatScreen />;
    case 'audit':
      return <AuditScreen />;
    case 'isolation':
      return <IsolationScreen />;
    case 'settings':
      return <SettingsScreen />;
  }
}

function Shell() {
  const screen = useSession((s) => s.screen);
  const tenant = useSession((s) => s.status?.tenant);
  const generation = useSession((s) => s.generation);
  const switching = useSession((s) => s.switching);
  if (!tenant) return null;
  return (
    <div className="shell" style={{ ['--tenant' as string]: tenant.colour }}>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span>Bulkhead</span>
        </div>
        <TenantSwitcher />
        <div className="nav-list">
          {NAV.map((n) => (
            <button
              key={n.screen}
              className={`nav-item ${screen === n.screen ? 'active' : ''}`}
              onClick={() => setScreen(n.screen)}
              aria-current={screen === n.screen ? 'page' : undefined}
            >
              <span className="nav-icon">
                <Icon name={n.icon} />
              </span>
              {n.label}
            </button>
          ))}
        </div>
        <div className="sidebar-footer">
          <PresentButton />
          <button className="nav-item" onClick={() => void lock()} data-testid="lock">
            <span className="nav-icon">
              <Icon name="lock" />
            </span>
            Lock
          </button>
        </div>
      </nav>
      <main className="content">
        <div className="tenant-bar" aria-hidden="true" />
        {/* Keyed by generation: a tenant switch remounts every screen, dropping local state. */}
        {switching ? <div className="switching" aria-busy="true" /> : <CurrentScreen key={`${generation}-${screen}`} screen={screen} />}
      </main>
      <PassageDrawer key={generation} />
      <DocumentReader key={`reader-${generation}`} />
      <Shortcuts />
    </div>
  );
}

export function App() {
  const status = useSession((s) => s.status);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    refreshStatus().catch((err: unknown) => setError(messageOf(err)));
  }, []);
  useIdleLock(status?.idleLockSeconds ?? 0, status?.state === 'unlocked');

  if (error) {
    return (
      <main className="center-screen">
        <div className="card auth-card">
          <h1>Cannot reach the console</h1>
          <p className="error-text">{error}</p>
        </div>
      </main>
    );
  }
  if (!status) return <main className="center-screen" aria-busy="true" />;
  if (status.state === 'uninitialized') return <FirstRunScreen />;
  if (status.state === 'locked') return <UnlockScreen />;
  if (!status.tenant) return <TenantPicker />;
  return <Shell />;
}
