import { useChat } from './chat.js';
import { useIngest } from './ingest.js';
import { useIsolation } from './isolation.js';
import { useLibrary } from './library.js';
import { useAudit, usePassage, useSearch, useSettings } from './panels.js';
import { useReader, useSearchView } from './search.js';
import { useSession } from './session.js';
import { useWatch } from './watch.js';

declare global {
  interface Window {
    /** A JSON snapshot of every store: how the end-to-end tests check that a switch wiped them. */
    __bulkheadStores?: () => string;
  }
}

export function exposeStoresForTests(): void {
  const stores = { useSession, useLibrary, useIngest, useChat, useSearch, usePassage, useAudit, useSettings, useIsolation, useSearchView, useReader, useWatch };
  window.__bulkheadStores = () => JSON.stringify(Object.fromEntries(Object.entries(stores).map(([k, s]) => [k, s.getState()])));
}
