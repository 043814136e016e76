import path from 'node:path';
import { Option, type Command } from 'commander';
import { BulkheadError } from '../../src-shared/errors.js';
import { downloadModel } from '../models/download.js';
import { ModelLibrary, resolveModelsDir, type LibraryModel } from '../models/library.js';
import { wrap, type GlobalOptions } from './context.js';
import type { Vault } from '../vault/vault.js';

interface ModelsOptions extends GlobalOptions {
  modelsDir?: string;
  name?: string;
  sha256?: string;
}

function library(vault: Vault, opts: ModelsOptions): ModelLibrary {
  return new ModelLibrary(resolveModelsDir(vault.paths.dataDir, opts.modelsDir));
}

const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

function table(models: LibraryModel[]): string {
  const w = Math.max(4, ...models.map((m) => m.name.length));
  const head = `${'NAME'.padEnd(w)}  ${'KIND'.padEnd(9)}  ${'ARCH'.padEnd(10)}  ${'QUANT'.padEnd(14)}  ${'CONTEXT'.padStart(7)}  SIZE`;
  const rows = models.map(
    (m) =>
      `${m.name.padEnd(w)}  ${m.kind.padEnd(9)}  ${m.architecture.padEnd(10)}  ${m.quantisation.padEnd(14)}  ${String(m.contextLength ?? '-').padStart(7)}  ${mib(m.sizeBytes)}`,
  );
  return [head, ...rows].join('\n');
}

/** `bulkhead models add|list|remove`: the model library, outside every tenant (no unlock needed). */
export function registerModelsCommands(program: Command): void {
  const models = program
    .command('models')
    .description('the GGUF model library the built-in runtime loads from (outside every tenant)')
    .addOption(new Option('--models-dir <dir>', 'library folder (default: BULKHEAD_MODELS_DIR, else <data-dir>/models)'));

  models
    .command('add')
    .argument('<file-or-url>', 'a GGUF file, or an http(s) URL to download (resumes a broken download)')
    .option('--name <name>', 'name in the library (default: the file name)')
    .option('--sha256 <hex>', 'refuse the file unless its sha256 is this')
    .description('check a GGUF header and add the model to the library')
    .action(
      wrap(async (vault, o, source) => {
        const opts = o as ModelsOptions;
        const lib = library(vault, opts);
        let model: LibraryModel;
        let extra = '';
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source!)) {
          let last = 0;
          const r = await downloadModel(lib, source!, {
            ...(opts.name ? { name: opts.name } : {}),
            ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
            onProgress: (p) => {
              const now = Date.now();
              if (opts.json || now - last < 500) return;
              last = now;
              const of = p.totalBytes ? ` of ${mib(p.totalBytes)} (${Math.floor((100 * p.receivedBytes) / p.totalBytes)}%)` : '';
              process.stderr.write(`downloading ${mib(p.receivedBytes)}${of}${p.resumed ? ', resumed' : ''}\n`);
            },
          });
          model = r.model;
          extra = `\n  sha256 ${r.sha256}${r.resumedFrom.length ? `\n  resumed ${r.resumedFrom.length} time(s)` : ''}`;
        } else {
          if (opts.sha256) {
            const actual = await ModelLibrary.fileHash(path.resolve(source!));
            if (actual !== opts.sha256.trim().toLowerCase()) {
              throw new BulkheadError('CHECKSUM_MISMATCH', `the file's sha256 is ${actual}, not the one given; nothing was added`);
            }
          }
          model = await lib.addFile(path.resolve(source!), opts.name);
        }
        return {
          json: model,
          text: `Added ${model.name} (${model.kind}, ${model.architecture}, ${model.quantisation}, ${mib(model.sizeBytes)}) to ${lib.dir}${extra}`,
        };
      }),
    );

  models
    .command('list')
    .description('list the models in the library, read from their GGUF headers')
    .action(
      wrap(async (vault, o) => {
        const lib = library(vault, o as ModelsOptions);
        const { models: list, broken } = await lib.list();
        const lines = list.length === 0 ? [`No models in ${lib.dir}: bulkhead models add FILE|URL`] : [table(list)];
        for (const b of broken) lines.push(`unusable  ${b.name}: ${b.error.message} [${b.error.code}]`);
        return { json: { dir: lib.dir, models: list, broken }, text: lines.join('\n') };
      }),
    );

  models
    .command('remove')
    .argument('<name>', 'the model name, as `models list` shows it')
    .description('delete a model file from the library')
    .action(
      wrap(async (vault, o, name) => {
        const r = library(vault, o as ModelsOptions).remove(name!);
        return { json: r, text: `Removed ${r.name} (${mib(r.freedBytes)} freed)` };
      }),
    );
}
