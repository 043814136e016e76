import type { Command } from 'commander';
import { readReranker, setReranker } from '../retrieval/reranker-setting.js';
import { openTenant, wrap } from './context.js';

function text(model: string | null): string {
  return model ? `reranker ${model} (library model: re-orders the fused search candidates)` : 'reranker off (search keeps the fused order)';
}

/** `bulkhead reranker show|set|unset`: the library reranking model of a tenant's searches (parity with Settings). */
export function registerRerankerCommands(program: Command): void {
  const r = program.command('reranker').description("a tenant's reranking model: re-orders the fused candidates of its searches (off by default)");
  r.command('show', { isDefault: true })
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const model = readReranker(await openTenant(vault, (opts as { tenant?: string }).tenant));
        return { json: { reranker: model }, text: text(model) };
      }),
    );
  r.command('set')
    .description('turn reranking on with a reranking model of the library (`bulkhead models list`)')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .argument('<name>', 'the model name, e.g. bge-reranker.gguf')
    .action(
      wrap(async (vault, opts, name) => {
        const model = await setReranker(await openTenant(vault, (opts as { tenant?: string }).tenant), name!);
        return { json: { reranker: model }, text: text(model) };
      }),
    );
  r.command('unset')
    .description('turn reranking off')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        await setReranker(await openTenant(vault, (opts as { tenant?: string }).tenant), null);
        return { json: { reranker: null }, text: text(null) };
      }),
    );
}
