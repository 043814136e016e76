import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { askAgent, type AgentResult } from '../agent/agent.js';
import type { Citation } from '../agent/citations.js';
import { getConversation, listConversations, listMessages } from '../agent/conversations.js';
import { checkConfigKey, CONFIG_KEYS, setConfigValue, showConfig, unsetConfigValue } from '../agent/model-config.js';
import { resolveModelForAsk } from '../agent/tenant-builtin.js';
import { modelRuntime } from '../models/shared.js';
import { setDocumentRole } from '../agent/profile.js';
import { readAgentPolicy } from '../egress/policy.js';
import { setLocalModelsOnly } from '../agent/endpoints.js';
import { testConnection } from '../agent/provider.js';
import type { ConfirmFn } from '../agent/tools.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Vault } from '../vault/vault.js';
import { openTenant, unlock, wrap } from './context.js';
import { ROW_ID, wholeNumber } from './options.js';
import { terminalText } from './terminal.js';

interface AskOpts {
  tenant?: string;
  conversation?: string;
  yes?: boolean;
  json?: boolean;
  limit?: string;
}

/**
 * Model output and document text reach the terminal as text only: escape sequences and other
 * control characters (a hostile model could retitle the window or rewrite earlier lines) are dropped.
 */
export function printable(text: string): string {
  return terminalText(text);
}

function positiveInt(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  return wholeNumber(what, what === '--limit' ? { min: 1, max: 100 } : ROW_ID)(value);
}

/** Ctrl-C stops the answer (nothing is saved); a second Ctrl-C exits at once. */
function cancelOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

function citationLine(c: Citation): string {
  const where = [c.page !== null ? `page ${c.page}` : null, c.headingPath.length > 0 ? c.headingPath.join(' > ') : null, `chars ${c.charStart}-${c.charEnd}`]
    .filter(Boolean)
    .join(', ');
  return printable(`[${c.id}] ${c.title} (${where}) [doc ${c.documentId}, chunk ${c.chunkId}]\n     ${c.sourcePath}`);
}

function resultFooter(r: AgentResult): string {
  const lines: string[] = [];
  // The streamed answer ends without a newline: the footer starts with a blank line after it.
  if (r.citations.length > 0) lines.push('', '', r.mode === 'generated' ? 'Sources:' : 'Passages:', ...r.citations.map(citationLine));
  lines.push('', `(${r.label}${r.model ? `, ${r.model.name} at ${r.model.host}` : ''}; conversation ${r.conversationId})`);
  return lines.join('\n');
}

/** Confirms a tool's write: y/N on a terminal, --yes for scripts, declined otherwise. */
function confirmer(yes: boolean | undefined, rl: readline.Interface | null): ConfirmFn {
  return async (req) => {
    if (yes) return true;
    const what =
      req.tool === 'save_note' ? `save a note titled "${req.title}" (${req.body.length} characters)` : `${req.title.replace(/^Run/, 'run')} with ${req.body}`;
    if (!rl) {
      process.stderr.write(printable(`bulkhead: the agent wanted to ${what}; declined (not a terminal; pass --yes to allow)`) + '\n');
      return false;
    }
    const answer = await rl.question(printable(`The agent wants to ${what}. Allow? [y/N] `));
    return /^y(es)?$/i.test(answer.trim());
  };
}

async function askOnce(
  tenant: TenantHandle,
  { model, modelUnavailable }: Chosen,
  question: string,
  opts: AskOpts,
  conversationId: number | undefined,
  rl: readline.Interface | null,
): Promise<AgentResult> {
  const cancel = cancelOnInterrupt();
  const stream = !opts.json;
  try {
    const result = await askAgent(
      tenant,
      { question, ...(conversationId !== undefined ? { conversationId } : {}) },
      {
        model,
        modelUnavailable,
        signal: cancel.signal,
        confirm: confirmer(opts.yes, rl),
        ...(opts.limit ? { k: positiveInt(opts.limit, '--limit') } : {}),
        ...(stream
          ? {
              onToken: (t: string) => process.stdout.write(printable(t)),
              onDiscard: () => process.stdout.write('\n[the streamed text above is void: the model failed]\n'),
            }
          : {}),
      },
    );
    if (result.modelError)
      process.stderr.write(`bulkhead: ${printable(result.modelError.message)}; answered from retrieval only [${result.modelError.code}]\n`);
    if (stream && result.mode === 'retrieval-only') process.stdout.write(printable(result.answer));
    return result;
  } finally {
    cancel.dispose();
  }
}

/**
 * The tenant's own chat model (an endpoint, or a library model run here): never another tenant's,
 * never the vault-wide defaults. A built-in one continues a conversation on its own sequence.
 */
async function modelFor(vault: Vault, tenant: TenantHandle, conversationId?: number): Promise<Chosen> {
  return resolveModelForAsk(vault, tenant, conversationId !== undefined ? { conversationKey: `conversation:${conversationId}` } : {});
}

type Chosen = Awaited<ReturnType<typeof resolveModelForAsk>>;

export function registerAgentCommands(program: Command): void {
  program
    .command('ask')
    .description("ask the agent a question about a tenant's documents (streams the answer, then its sources)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--conversation <id>', 'continue this conversation')
    .option('--yes', 'allow the writes the agent asks for (saving a note) without asking')
    .option('-k, --limit <k>', 'passages to retrieve for the context')
    .argument('<question>', 'the question')
    .action(
      wrap(async (vault, opts, question) => {
        const o = opts as AskOpts;
        const tenant = await openTenant(vault, o.tenant);
        const chosen = await modelFor(vault, tenant, positiveInt(o.conversation, '--conversation'));
        const model = chosen.model;
        const rl = process.stdin.isTTY && !o.yes ? readline.createInterface({ input: process.stdin, output: process.stderr }) : null;
        try {
          const r = await askOnce(tenant, chosen, question!, o, positiveInt(o.conversation, '--conversation'), rl);
          // A built-in model's speed for this answer (what the console's Settings shows).
          const turn = model?.builtin ? modelRuntime().status(tenant).lastTurn : null;
          const speed = turn ? `\n(${turn.tokens} tokens at ${turn.tokensPerS.toFixed(1)} tokens/s)` : '';
          return { json: turn ? { ...r, builtinTurn: turn } : r, text: resultFooter(r) + speed };
        } finally {
          rl?.close();
        }
      }),
    );

  program
    .command('chat')
    .description('a conversation with the agent in one tenant (one question per line; /exit or end of input to stop)')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--conversation <id>', 'resume this conversation')
    .option('--yes', 'allow the writes the agent asks for without asking')
    .action(
      wrap(async (vault, opts) => {
        const o = opts as AskOpts;
        const tenant = await openTenant(vault, o.tenant);
        const chosen = await modelFor(vault, tenant);
        const model = chosen.model;
        let conversationId = positiveInt(o.conversation, '--conversation');
        if (conversationId !== undefined) getConversation(tenant, conversationId);
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
        const results: AgentResult[] = [];
        try {
          if (process.stdin.isTTY)
            process.stderr.write(`${model ? `Model: ${printable(model.name)}` : 'No model configured: answers come from retrieval only'}. /exit to leave.\n`);
          for await (const line of rl) {
            const question = line.trim();
            if (question === '/exit' || question === '/quit') break;
            if (question === '') continue;
            const r = await askOnce(tenant, chosen, question, { ...o, json: false }, conversationId, process.stdin.isTTY ? rl : null);
            conversationId = r.conversationId;
            results.push(r);
            process.stdout.write(`${printable(resultFooter(r))}\n\n`);
          }
        } finally {
          rl.close();
        }
        return {
          json: { conversationId: conversationId ?? null, turns: results.length },
          text: conversationId ? `(conversation ${conversationId}: resume with --conversation ${conversationId})` : '(no question asked)',
        };
      }),
    );

  const conv = program.command('conversations').description("list and show a tenant's conversations with the agent");
  conv
    .command('list', { isDefault: true })
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const tenant = await openTenant(vault, (opts as AskOpts).tenant);
        const list = listConversations(tenant);
        return {
          json: list,
          text: list.length === 0 ? 'No conversations.' : printable(list.map((c) => `${String(c.id).padStart(5)}  ${c.updatedAt}  ${c.title}`).join('\n')),
        };
      }),
    );
  conv
    .command('show')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .argument('<id>', 'conversation id')
    .action(
      wrap(async (vault, opts, id) => {
        const tenant = await openTenant(vault, (opts as AskOpts).tenant);
        const c = getConversation(tenant, positiveInt(id, 'a conversation id')!);
        const messages = listMessages(tenant, c.id);
        const text = printable(
          [
            `${c.title} (${c.id})`,
            ...messages.map((m) => `\n${m.role === 'user' ? 'You' : `Agent${m.mode === 'retrieval-only' ? ' (not generated)' : ''}`}: ${m.content}`),
          ].join('\n'),
        );
        return { json: { ...c, messages }, text };
      }),
    );

  registerConfigCommands(program);
  registerPolicyCommands(program);

  const docs = program.commands.find((c) => c.name() === 'docs');
  if (!docs) throw new BulkheadError('INTERNAL', 'the docs command must be registered before the agent commands');
  docs
    .command('role')
    .description("mark a document as the tenant's instructions or brand voice for the agent (none: plain knowledge)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .argument('<id>', 'document id (from docs list)')
    .argument('<role>', 'instructions | voice | none')
    .action(
      wrap(async (vault, opts, id, role) => {
        const tenant = await openTenant(vault, (opts as AskOpts).tenant);
        const r = setDocumentRole(tenant, positiveInt(id, 'a document id')!, role);
        return { json: r, text: `Document ${r.documentId} "${r.title}" is now: ${r.role}` };
      }),
    );
}

function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description(
      `vault-wide defaults that prefill a new tenant's chat model: ${CONFIG_KEYS.join(', ')} (env BULKHEAD_MODEL_BASE_URL, BULKHEAD_MODEL override); a tenant's own model: bulkhead model`,
    );
  config
    .command('show', { isDefault: true })
    .description('show the defaults for new tenants')
    .action(
      wrap(async (vault) => {
        if (vault.state !== 'uninitialized') await unlock(vault);
        return { json: showConfig(vault), text: configText(showConfig(vault)) };
      }),
    );
  config
    .command('get')
    .argument('<key>', CONFIG_KEYS.join(' | '))
    .action(
      wrap(async (vault, _o, key) => {
        if (!(CONFIG_KEYS as readonly string[]).includes(key!))
          throw new BulkheadError('INPUT_INVALID', `unknown setting "${key}"; known: ${CONFIG_KEYS.join(', ')}`);
        await unlock(vault);
        const view = showConfig(vault) as unknown as Record<string, unknown>;
        return { json: { [key!]: view[key!] ?? null }, text: String(view[key!] ?? '(not set)') };
      }),
    );
  config
    .command('set')
    .argument('<key>', CONFIG_KEYS.join(' | '))
    .argument('<value>', 'the value')
    .description("set a default for new tenants (an API key is a tenant's own: bulkhead model set)")
    .action(
      wrap(async (vault, _o, key, value) => {
        checkConfigKey(key!); // refused before the passphrase is asked for
        await unlock(vault);
        setConfigValue(vault, key!, value!);
        return { json: { key, set: true }, text: `Set ${key}` };
      }),
    );
  config
    .command('unset')
    .argument('<key>', CONFIG_KEYS.join(' | '))
    .action(
      wrap(async (vault, _o, key) => {
        checkConfigKey(key!); // refused before the passphrase is asked for
        await unlock(vault);
        unsetConfigValue(vault, key!);
        return { json: { key, set: false }, text: `Unset ${key}` };
      }),
    );
}

function configText(view: ReturnType<typeof showConfig>): string {
  const lines = CONFIG_KEYS.map((k) => `${k.padEnd(20)} ${view[k] ?? '(not set)'}${view.fromEnvironment.includes(k) ? '  (from the environment)' : ''}`);
  if (view.migrationPending > 0) lines.push(`(${view.migrationPending} tenant(s) get their copy of the former vault-wide model settings when next opened)`);
  return ["Defaults for new tenants (each tenant's own model: bulkhead model show --tenant NAME)", ...lines].join('\n');
}

function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description("a tenant's agent policy");
  policy
    .command('show', { isDefault: true })
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const p = readAgentPolicy(await openTenant(vault, (opts as AskOpts).tenant));
        return { json: p, text: `local models only: ${p.localModelsOnly ? 'on' : 'off'}` };
      }),
    );
  policy
    .command('set')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .requiredOption('--local-models-only <on|off>', "only loopback model endpoints may receive this tenant's context")
    .action(
      wrap(async (vault, opts) => {
        const o = opts as AskOpts & { localModelsOnly: string };
        if (!/^(on|off)$/.test(o.localModelsOnly)) throw new BulkheadError('INPUT_INVALID', '--local-models-only is on or off');
        const p = await setLocalModelsOnly(await openTenant(vault, o.tenant), o.localModelsOnly === 'on');
        const held = p.held.length > 0 ? `\n${p.held.length} stored endpoint(s) on hold until confirmed: bulkhead endpoints show --tenant ${o.tenant}` : '';
        return { json: p, text: `local models only: ${p.localModelsOnly ? 'on' : 'off'}${held}` };
      }),
    );
}
