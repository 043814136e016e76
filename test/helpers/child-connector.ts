// A child process for the quit tests: opens a tenant, starts one sandboxed connector, says
// "started", then exits (or waits to be killed) without closing anything.
import { runConnectorTool } from '../../src-main/connectors/calls.js';
import { connectorHost } from '../../src-main/connectors/host.js';
import { addConnector, setToolAllowed } from '../../src-main/connectors/store.js';
import { stdioConnector } from './connectors.js';
import { freshVault } from './vault.js';

const [dir, marker, mode] = process.argv.slice(2) as [string, string, 'exit' | 'wait'];
const vault = await freshVault(dir);
const t = vault.openSession().open(vault.createTenant('Quit').id);
const input = stdioConnector('crm', 'benign.mjs');
(input.target as { args: string[] }).args.push(marker);
addConnector(t, input);
await connectorHost(t).discover('crm');
setToolAllowed(t, 'crm', 'whoami', true);
const r = await runConnectorTool({ tenant: t }, { name: 'mcp__crm__whoami', arguments: '{}' });
process.stdout.write(`started ${r.ok}\n`);
if (mode === 'exit') process.exit(0);
else setInterval(() => undefined, 1000);
