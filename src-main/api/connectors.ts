import { BulkheadError, isBulkheadError } from '../../src-shared/errors.js';
import { unlockTools } from '../connectors/guard.js';
import { connectorHost } from '../connectors/host.js';
import { addConnector, getConnector, removeConnector, setToolAllowed } from '../connectors/store.js';
import { connectorsOverview, connectorView } from '../connectors/view.js';
import type { CallHandlers } from './handlers.js';

// The console's calls for the open tenant's connectors. Changing them (which runs programs on
// this machine) is refused in presentation mode.

type ConnectorCallName = 'connectors.list' | 'connectors.add' | 'connectors.remove' | 'connectors.test' | 'connectors.setTool' | 'connectors.unlock';

export const connectorHandlers: Pick<CallHandlers, ConnectorCallName> = {
  'connectors.list': (s) => connectorsOverview(s.scope().handle),
  'connectors.add': (s, input) => {
    s.requireNotPresenting();
    const { handle } = s.scope();
    return connectorView(handle, addConnector(handle, input));
  },
  'connectors.remove': async (s, { connectorId }) => {
    s.requireNotPresenting();
    const { handle } = s.scope();
    await connectorHost(handle).stop(getConnector(handle, connectorId).id);
    removeConnector(handle, connectorId);
    return { connectorId };
  },
  'connectors.test': async (s, { connectorId }) => {
    s.requireNotPresenting();
    const { handle, signal } = s.scope();
    const started = Date.now();
    try {
      const r = await connectorHost(handle).discover(connectorId, signal);
      await connectorHost(handle).stop(r.connector.id);
      const detail = `answered in ${Date.now() - started} ms (sandbox: ${r.sandbox}); ${r.tools.length} tools, ${r.tools.filter((t) => !t.allowed).length} off`;
      return { ok: true, detail, connector: connectorView(handle, getConnector(handle, connectorId)) };
    } catch (err) {
      if (!isBulkheadError(err) || ['TENANT_CLOSED', 'CANCELLED', 'CONNECTOR_NOT_FOUND', 'TENANT_CORRUPT'].includes(err.code)) throw err;
      return { ok: false, detail: err.message, connector: connectorView(handle, getConnector(handle, connectorId)) };
    }
  },
  'connectors.setTool': (s, { connectorId, tool, allowed }) => {
    s.requireNotPresenting();
    const { handle } = s.scope();
    setToolAllowed(handle, connectorId, tool, allowed);
    return connectorView(handle, getConnector(handle, connectorId));
  },
  'connectors.unlock': (s) => {
    s.requireNotPresenting();
    const { handle } = s.scope();
    if (!connectorsOverview(handle).guard.locked) throw new BulkheadError('INPUT_INVALID', 'the tool path of this client is not locked');
    unlockTools(handle);
    return connectorsOverview(handle);
  },
};
