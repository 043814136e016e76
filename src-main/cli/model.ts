import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { maskSecret } from '../agent/model-config.js';
import { testConnection } from '../agent/provider.js';
import { clearTenantModel, isBuiltinChoice, readTenantModel, setTenantModel, tenantModelFor } from '../agent/tenant-model.js';
import { setTenantBuiltin } from '../agent/tenant-builtin.js';
import { modelRuntime } from '../models/shared.js';
import { readAgentPolicy } from '../egress/policy.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Vault } from '../vault/vault.js';
import { openTenant, wrap } from './context.js';

interface ModelOpts {
  tenant?: string;
  baseUrl?: string;
  model?: string;
  builtin?: string;
  apiKeyEnv?: string;
  apiKey?: boolean;
  contextTokens?: string;
  timeoutMs?: string;
}

/** What `model show` prints of a tenant's chat model: never the key itself. */
function view(vault: Vault, tenant: TenantHandle): Record<string, unknown> {
  tenantModelFor(vault, tenant);
  const chosen = readTenantModel(tenant);
  const localModelsOnly = readAgentPolicy(tenant).localModelsOnly;
  if (isBuiltinChoice(chosen)) {
    return {
      kind: 'builtin',
      builtin: chosen.model,
      baseUrl: null,
      name: chosen.model,
      apiKey: null,
      contextTokens: chosen.contextTokens ?? null,
      timeoutMs: chosen.timeoutMs ?? null,
      localModelsOnly,
    };
  }
  const m = chosen;
  return {
    kind: m ? 'endpoint' : null,
    builtin: null,
    baseUrl: m?.baseUrl ?? null,
    name: m?.name ?? null,
    apiKey: m?.apiKey ? maskSecret(m.apiKey) : null,
    contextTokens: m?.contextTokens ?? null,
    timeoutMs: m?.timeoutMs ?? null,
    localModelsOnly,
  };
}

function viewText(v: Record<string, unknown>): string {
  if (v.kind === 'builtin')
    return [`built-in   ${v.builtin} (library model, run in this process)`, `local only ${v.localModelsOnly ? 'on' : 'off'}`].join('\n');
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
    .description("set the tenant's chat model: an endpoint (refused when its policy does not allow it) or a library model (--builtin)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--base-url <url>', 'OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1')
    .option('--model <name>', 'model name at the endpoint')
    .option('--builtin <name>', 'a chat model of the library (`bulkhead models list`), run by the built-in runtime')
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
        if (o.builtin !== undefined && (o.baseUrl !== undefined || o.model !== undefined || o.apiKeyEnv !== undefined))
          throw new BulkheadError('INPUT_INVALID', 'give either --builtin NAME or --base-url URL --model NAME, not both');
        if (o.builtin === undefined && (o.baseUrl === undefined || o.model === undefined))
          throw new BulkheadError('INPUT_INVALID', 'give --base-url URL and --model NAME (an endpoint), or --builtin NAME (a library model)');
        const tenant = await openTenant(vault, o.tenant);
        tenantModelFor(vault, tenant);
        if (o.builtin !== undefined) {
          await setTenantBuiltin(tenant, { model: o.builtin, contextTokens: o.contextTokens, timeoutMs: o.timeoutMs });
          const v = view(vault, tenant);
          return { json: v, text: viewText(v) };
        }
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
        const chosen = readTenantModel(tenant);
        if (isBuiltinChoice(chosen)) {
          const runtime = modelRuntime();
          const loaded = await runtime.loadModel(chosen.model);
          const report = { builtin: chosen.model, backend: await runtime.backend(), loadMs: loaded.loadMs, sha256: loaded.sha256 };
          return {
            json: report,
            text: `Loaded ${chosen.model} in the built-in runtime (${report.backend}) in ${loaded.loadMs.toFixed(0)} ms; sha256 ${loaded.sha256}`,
          };
        }
        if (!config)
          throw new BulkheadError('MODEL_NOT_CONFIGURED', 'this tenant has no chat model: bulkhead model set --tenant NAME --base-url URL --model NAME');
        const report = await testConnection(tenant, config);
        const text = `Connected to ${report.host} in ${report.latencyMs.toFixed(0)} ms; ${report.models.length} models; "${config.name}" ${report.modelListed ? 'is listed' : 'is NOT listed'}`;
        return { json: report, text };
      }),
    );
}
