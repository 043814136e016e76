import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { maskSecret } from '../agent/model-config.js';
import { testConnection } from '../agent/provider.js';
import { clearTenantModel, readTenantModel, setTenantModel, tenantModelFor } from '../agent/tenant-model.js';
import { readAgentPolicy } from '../egress/policy.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Vault } from '../vault/vault.js';
import { openTenant, wrap } from './context.js';

interface ModelOpts {
  tenant?: string;
  baseUrl?: string;
  model?: string;
  apiKeyEnv?: string;
  apiKey?: boolean;
  contextTokens?: string;
  timeoutMs?: string;
}

/** What `model show` prints of a tenant's chat model: never the key itself. */
function view(vault: Vault, tenant: TenantHandle): Record<string, unknown> {
  tenantModelFor(vault, tenant);
  const m = readTenantModel(tenant);
  return {
    baseUrl: m?.baseUrl ?? null,
    name: m?.name ?? null,
    apiKey: m?.apiKey ? maskSecret(m.apiKey) : null,
    contextTokens: m?.contextTokens ?? null,
    timeoutMs: m?.timeoutMs ?? null,
    localModelsOnly: readAgentPolicy(tenant).localModelsOnly,
  };
}

function viewText(v: Record<string, unknown>): string {
  if (v.baseUrl === null) return 'No chat model for this tenant: answers come from retrieval only.';
  return [`endpoint   ${v.baseUrl}`, `model      ${v.name}`, `API key    ${v.apiKey ?? '(none)'}`, `local only ${v.localModelsOnly ? 'on' : 'off'}`].join('\n');
}

/** A tenant's own chat model: endpoint, model name and API key, stored in its file (parity with Settings). */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description("a tenant's own chat model (endpoint, model, API key): stored in its file, used for it only");
  model
    .command('show', { isDefault: true })
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const v = view(vault, await openTenant(vault, (opts as ModelOpts).tenant));
        return { json: v, text: viewText(v) };
      }),
    );
  model
    .command('set')
    .description("set the tenant's chat model (refused when its policy does not allow the endpoint)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .requiredOption('--base-url <url>', 'OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1')
    .requiredOption('--model <name>', 'model name')
    .option('--api-key-env <var>', 'read the API key from this environment variable')
    .option('--no-api-key', 'remove the stored API key')
    .option('--context-tokens <n>', "the model's context window")
    .option('--timeout-ms <n>', 'time allowed for the first and each next streamed piece')
    .action(
      wrap(async (vault, opts) => {
        const o = opts as ModelOpts;
        let apiKey: string | null | undefined;
        if (o.apiKeyEnv) {
          apiKey = process.env[o.apiKeyEnv];
          if (!apiKey) throw new BulkheadError('INPUT_INVALID', `the environment variable ${o.apiKeyEnv} is not set`);
        } else if (o.apiKey === false) apiKey = null;
        const tenant = await openTenant(vault, o.tenant);
        tenantModelFor(vault, tenant);
        await setTenantModel(tenant, { baseUrl: o.baseUrl!, name: o.model!, apiKey, contextTokens: o.contextTokens, timeoutMs: o.timeoutMs });
        const v = view(vault, tenant);
        return { json: v, text: viewText(v) };
      }),
    );
  model
    .command('unset')
    .description("remove the tenant's chat model (answers then come from retrieval only)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const tenant = await openTenant(vault, (opts as ModelOpts).tenant);
        tenantModelFor(vault, tenant);
        clearTenantModel(tenant);
        return { json: view(vault, tenant), text: 'Removed the chat model of this tenant.' };
      }),
    );
  model
    .command('test')
    .description("connect to the tenant's model endpoint and list its models, through its egress and under its policy")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const tenant = await openTenant(vault, (opts as ModelOpts).tenant);
        const config = tenantModelFor(vault, tenant);
        if (!config)
          throw new BulkheadError('MODEL_NOT_CONFIGURED', 'this tenant has no chat model: bulkhead model set --tenant NAME --base-url URL --model NAME');
        const report = await testConnection(tenant, config);
        const text = `Connected to ${report.host} in ${report.latencyMs.toFixed(0)} ms; ${report.models.length} models; "${config.name}" ${report.modelListed ? 'is listed' : 'is NOT listed'}`;
        return { json: report, text };
      }),
    );
}
