import type { Command } from 'commander';
import { setDocumentShared } from '../vault/shared-material.js';
import cliProgress from 'cli-progress';
import { BulkheadError } from '../../src-shared/errors.js';
import { countDocuments, deleteDocument, listDocuments } from '../ingest/documents.js';
import { assertEmbedderAllowed, builtinEmbedderSettings, createEmbedder, probeDimension } from '../embed/index.js';
import { ingestPaths, type IngestEvent, type IngestSummary } from '../ingest/pipeline.js';
import { alreadyTheEmbedder, EmbedderConfig, readEmbedderConfig } from '../embed/settings.js';
import { searchKnowledge, type Passage, type SearchResult } from '../retrieval/knowledge.js';
import { reembedTenant } from '../retrieval/reembed.js';
import { termSpaceDue, tuneOfflineEmbedder } from '../retrieval/term-space-job.js';
import { activeVectorIndex } from '../index/vectors.js';
import { openTenant, wrap } from './context.js';
import { EXIT } from './exit-codes.js';
import { ANY_COUNT, ROW_ID, wholeNumber } from './options.js';
import { registerDocumentCommands } from './documents.js';
import { filterDocuments } from '../ingest/document-filters.js';
import { searchForView } from '../api/search-view.js';
import { readPassage } from '../api/passages.js';
import { MAX_QUERY_CHARS } from '../retrieval/by-example.js';

/** SIGINT cancels long work cleanly (between documents or batches) instead of killing it. */
function cancelOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nbulkhead: stopping after the current document (Ctrl-C again to abort now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/** A progress bar on a terminal; on a pipe, nothing until the summary. */
function ingestProgress(): { onEvent: (e: IngestEvent) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { onEvent: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: ' {bar} {value}/{total} files | {chunks} chunks | {mb} MB | {errors} failed', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  return {
    onEvent: (e) => {
      if (e.type === 'scanned') bar.start(e.files, 0, { chunks: 0, mb: '0.0', errors: 0 });
      if (e.type === 'file-done' && e.index >= 0) bar.update(++done, { chunks: e.chunksDone, mb: (e.bytesDone / 1e6).toFixed(1), errors: e.errors });
    },
    stop: () => bar.stop(),
  };
}

function summaryText(s: IngestSummary): string {
  const lines = [
    `${s.added} added, ${s.unchanged} unchanged, ${s.replaced} replaced, ${s.failed} failed (${s.chunks} chunks)${s.cancelled ? ' - cancelled before the end' : ''}`,
  ];
  for (const f of s.files.filter((x) => x.status === 'failed')) lines.push(`  failed  ${f.path}: ${f.reason} [${f.code}]`);
  return lines.join('\n');
}

/** Scripts can tell a full run (0) from a partial one (8), from one that brought nothing in (9). */
function ingestExitCode(s: IngestSummary): number | undefined {
  if (s.cancelled) return EXIT.cancelled;
  if (s.added + s.replaced + s.unchanged === 0) return EXIT.nothingIngested;
  return s.failed > 0 ? EXIT.someFailed : undefined;
}

/** Commander's collector for a variadic list of document ids. */
function documentIds(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), wholeNumber('--exclude-doc', ROW_ID)(value)];
}

function searchText(r: SearchResult): string {
  const lines: string[] = [];
  if (r.mode !== 'hybrid') lines.push(`(full-text only: ${r.note ?? 'vectors unavailable'})`);
  if (r.searchedAs) lines.push(`(searched by its most telling words: ${r.searchedAs})`);
  if (r.passages.length === 0) lines.push('No passages found.');
  r.passages.forEach((p: Passage, i: number) => {
    const where = [p.page !== null ? `page ${p.page}` : null, p.headingPath.length > 0 ? p.headingPath.join(' > ') : null, `chars ${p.charStart}-${p.charEnd}`]
      .filter(Boolean)
      .join(', ');
    lines.push(`${i + 1}. ${p.title}  [doc ${p.documentId}, chunk ${p.chunkId}, score ${p.score.toFixed(4)}]`);
    lines.push(`   ${p.sourcePath} (${where})`);
    lines.push(`   ${p.text.replace(/\s+/g, ' ').slice(0, 240)}${p.text.length > 240 ? '…' : ''}`);
  });
  return lines.join('\n');
}

export function registerKnowledgeCommands(program: Command): void {
  program
    .command('ingest')
    .description("add files and folders (recursively) to a tenant's knowledge base")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--tag <tag...>', 'tags to put on every document of this run')
    .option('--follow-links', 'follow symbolic links that lead out of the folders given (refused by default)')
    .argument('<path...>', 'files or folders (.txt .md .html .pdf .docx .csv .json .pptx .xlsx .odt .eml)')
    .action(
      wrap(async (vault, opts, ...paths) => {
        const o = opts as { tenant?: string; tag?: string[]; followLinks?: boolean };
        const tenant = await openTenant(vault, o.tenant);
        const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
        const cancel = cancelOnInterrupt();
        const progress = ingestProgress();
        try {
          const summary = await ingestPaths(tenant, paths, {
            embedder,
            tags: o.tag ?? [],
            followLinks: o.followLinks === true,
            signal: cancel.signal,
            onEvent: progress.onEvent,
          });
          progress.stop();
          // Enough passages now: the offline embedder learns this tenant's vocabulary before the run ends.
          let tuned = '';
          if (!summary.cancelled && summary.added + summary.replaced > 0 && termSpaceDue(tenant) !== null) {
            if (process.stderr.isTTY) process.stderr.write("learning this tenant's vocabulary for its vectors…\n");
            // The files are in whatever happens here: a cancel or failure only leaves the vectors untuned.
            try {
              const outcome = await tuneOfflineEmbedder(tenant, { signal: cancel.signal });
              if (outcome.kind === 'tuned') tuned = `\nvectors tuned to this tenant's vocabulary (${outcome.config.chunks} chunks)`;
            } catch (err) {
              tuned = `\nvectors not tuned to this tenant's vocabulary (${err instanceof Error ? err.message : String(err)}); \`bulkhead embedder tune\` does it later`;
            }
          }
          return { json: summary, text: summaryText(summary) + tuned, exitCode: ingestExitCode(summary) };
        } finally {
          progress.stop();
          cancel.dispose();
        }
      }),
    );

  program
    .command('search')
    .description("search a tenant's knowledge base (full-text and vectors, fused)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('-k, --limit <k>', 'passages to return (1-100)', wholeNumber('--limit', { min: 1, max: 100 }), 10)
    .option('--kind <format...>', 'only documents of these kinds (md, pdf, …)')
    .option('--tag <tag...>', 'only documents with all these tags')
    .option('--from <YYYY-MM-DD>', 'only documents added on or after this day')
    .option('--to <YYYY-MM-DD>', 'only documents added on or before this day')
    .option('--exclude-doc <id...>', 'leave these documents out of the results', documentIds, undefined)
    .option(
      '--like <chunk>',
      "find passages like this one (its text is the query; its own document is left out), as the console's Find similar",
      wholeNumber('--like', ROW_ID),
    )
    .argument('[query]', 'what to look for (a word, a phrase or a pasted passage of up to 20,000 characters)')
    .action(
      wrap(async (vault, opts, query) => {
        const o = opts as { tenant?: string; limit: number; kind?: string[]; tag?: string[]; from?: string; to?: string; excludeDoc?: number[]; like?: number };
        if (o.like !== undefined && query !== undefined) throw new BulkheadError('INPUT_INVALID', 'give either a query or --like <chunk>, not both');
        if (o.like === undefined && (query ?? '').trim() === '') throw new BulkheadError('INPUT_INVALID', 'say what to look for');
        for (const d of [o.from, o.to])
          if (d !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new BulkheadError('INPUT_INVALID', '--from and --to are dates written YYYY-MM-DD');
        const tenant = await openTenant(vault, o.tenant);
        const like = o.like === undefined ? null : readPassage(tenant, o.like);
        const text = like ? like.text.slice(0, MAX_QUERY_CHARS) : query!;
        const excludeDocumentIds = [...new Set([...(o.excludeDoc ?? []), ...(like ? [like.documentId] : [])])];
        const filtered = Boolean(o.kind?.length || o.tag?.length || o.from || o.to);
        const filters = { formats: o.kind ?? [], tags: o.tag ?? [], from: o.from ?? null, to: o.to ?? null };
        // A CLI run ends after its answer: the offline embedder is tuned by ingest or `embedder tune`, not here.
        const result = filtered
          ? await searchForView(tenant, text, { k: o.limit, filters, excludeDocumentIds, tune: false })
          : await searchKnowledge(tenant, text, { k: o.limit, excludeDocumentIds, tune: false });
        return { json: result, text: searchText(result) };
      }),
    );

  const docs = program.command('docs').description("list and delete a tenant's documents");
  docs
    .command('list', { isDefault: true })
    .description('list documents')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--filter <text>', 'only titles or paths containing this')
    .option('--tag <tag...>', 'only documents with all these tags')
    .option('--kind <format...>', 'only documents of these kinds (md, pdf, …)')
    .option('--limit <n>', 'at most this many (1-10000)', wholeNumber('--limit', { min: 1, max: 10_000 }), 100)
    .option('--offset <n>', 'skip this many', wholeNumber('--offset', ANY_COUNT), 0)
    .action(
      wrap(async (vault, opts) => {
        const o = opts as { tenant?: string; filter?: string; tag?: string[]; kind?: string[]; limit: number; offset: number };
        const tenant = await openTenant(vault, o.tenant);
        const list =
          o.tag?.length || o.kind?.length
            ? filterDocuments(tenant, { text: o.filter ?? '', tags: o.tag ?? [], formats: o.kind ?? [] }, o.offset, o.limit).items
            : listDocuments(tenant, { limit: o.limit, offset: o.offset, ...(o.filter ? { filter: o.filter } : {}) });
        const totals = countDocuments(tenant);
        const text =
          list.length === 0
            ? 'No documents.'
            : [
                ...list.map(
                  (d) =>
                    `${String(d.id).padStart(6)}  ${d.title}  (${d.format}, ${d.chunkCount} chunks${d.tags.length ? `, tags: ${d.tags.join(', ')}` : ''})\n        ${d.sourcePath}`,
                ),
                `${totals.documents} documents, ${totals.chunks} chunks in all`,
              ].join('\n');
        return { json: { documents: list, totals }, text };
      }),
    );
  docs
    .command('delete')
    .description('delete a document with its chunks, vectors and full-text entries')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .argument('<id>', 'document id (from docs list)', wholeNumber('a document id', ROW_ID))
    .action(
      wrap(async (vault, opts, id) => {
        const tenant = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const docId = Number(id);
        const doc = deleteDocument(tenant, docId);
        return { json: doc, text: `Deleted document ${doc.id} "${doc.title}" (${doc.chunkCount} chunks)` };
      }),
    );

  registerDocumentCommands(docs);
  docs
    .command('share')
    .description("mark a document as the agency's own shared material (verify's cross-tenant control skips it); audited")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--off', 'remove the mark')
    .argument('<id>', 'document id (from docs list)')
    .action(
      wrap(async (vault, opts, id) => {
        const o = opts as { tenant?: string; off?: boolean };
        const tenant = await openTenant(vault, o.tenant);
        const docId = Number(id);
        if (!Number.isSafeInteger(docId) || docId < 1) throw new BulkheadError('INPUT_INVALID', 'a document id is a positive whole number');
        const r = setDocumentShared(tenant, docId, !o.off);
        return { json: r, text: r.shared ? `Document ${docId} is marked as shared material` : `Document ${docId} is no longer marked as shared material` };
      }),
    );

  const emb = program.command('embedder').description("show or change the embedder of a tenant's vectors");
  emb
    .command('show', { isDefault: true })
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const tenant = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const config = readEmbedderConfig(tenant);
        const index = activeVectorIndex(tenant);
        const shown = config.kind === 'openai' && config.apiKey ? { ...config, apiKey: '(set)' } : config;
        return {
          json: { config: shown, index },
          text: `embedder ${config.kind}${config.kind === 'builtin' ? ` ${config.model} (library model, in this process)` : 'model' in config ? ` ${config.model} at ${config.baseUrl}` : config.kind === 'terms' ? ` (offline, built in, tuned on ${config.chunks} of this tenant's passages)` : ' (offline, built in)'}\nvectors  ${index ? `${index.embedderId}, ${index.dimension} dimensions` : 'none yet'}`,
        };
      }),
    );
  emb
    .command('tune')
    .description("learn the tenant's vocabulary for the offline embedder now, and re-embed (done by itself after ingest and in the console)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .action(
      wrap(async (vault, opts) => {
        const tenant = await openTenant(vault, (opts as { tenant?: string }).tenant);
        const cancel = cancelOnInterrupt();
        try {
          const outcome = await tuneOfflineEmbedder(tenant, { signal: cancel.signal, force: true });
          // Forced, it is not due only for another embedder or too few chunks: a usage error.
          if (outcome.kind === 'not-due') throw new BulkheadError('INPUT_INVALID', `embedder: ${outcome.reason}`);
          const index = activeVectorIndex(tenant);
          return {
            json: { outcome: outcome.kind, ...(outcome.kind === 'skipped' ? { reason: outcome.reason } : {}), config: readEmbedderConfig(tenant), index },
            text:
              outcome.kind === 'tuned'
                ? `Vectors now come from the offline embedder tuned on ${outcome.config.chunks} chunks (${index?.dimension} dimensions)`
                : `Not tuned: ${outcome.reason}`,
            ...(outcome.kind === 'tuned' ? {} : { exitCode: EXIT.conflict }),
          };
        } finally {
          cancel.dispose();
        }
      }),
    );
  emb
    .command('set')
    .description('switch embedder and re-embed every chunk (search keeps the old vectors until done)')
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .argument('<kind>', 'hash | ollama | openai | builtin (a GGUF embedding model of the library: --model NAME.gguf)')
    .option('--base-url <url>', 'endpoint, e.g. http://127.0.0.1:11434 (ollama) or http://127.0.0.1:8080/v1 (openai)')
    .option('--model <name>', 'embedding model name')
    .option('--api-key-env <var>', 'read the API key from this environment variable')
    .action(
      wrap(async (vault, opts, kind) => {
        const o = opts as { tenant?: string; baseUrl?: string; model?: string; apiKeyEnv?: string };
        const apiKey = o.apiKeyEnv ? process.env[o.apiKeyEnv] : undefined;
        if (kind === 'terms')
          throw new BulkheadError(
            'INPUT_INVALID',
            'embedder: terms is learnt by Bulkhead itself; choose hash, and it is tuned to the tenant once it has enough passages',
          );
        if (kind === 'builtin' && !o.model) throw new BulkheadError('INPUT_INVALID', 'embedder: builtin needs --model NAME.gguf (see `bulkhead models list`)');
        const parsed =
          kind === 'builtin'
            ? ({ success: true, data: await builtinEmbedderSettings(o.model!) } as const)
            : EmbedderConfig.safeParse({
                kind,
                ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}),
                ...(o.model ? { model: o.model } : {}),
                ...(apiKey ? { apiKey } : {}),
              });
        if (!parsed.success)
          throw new BulkheadError('INPUT_INVALID', `embedder: ${parsed.error.issues[0]?.path.join('.') || 'kind'}: ${parsed.error.issues[0]?.message}`);
        const tenant = await openTenant(vault, o.tenant);
        // The tenant's policy first: an endpoint it does not allow is refused before a byte is sent.
        await assertEmbedderAllowed(tenant, parsed.data);
        // The offline embedder already tuned to this tenant is the one asked for: nothing to redo.
        const current = readEmbedderConfig(tenant);
        if (alreadyTheEmbedder(parsed.data, current)) {
          const index = activeVectorIndex(tenant);
          return { json: index, text: `Already the offline embedder, tuned on ${current.chunks} chunks (${index?.dimension} dimensions)` };
        }
        const config =
          parsed.data.kind === 'hash' || parsed.data.kind === 'terms' || parsed.data.kind === 'builtin' || parsed.data.dimension
            ? parsed.data
            : { ...parsed.data, dimension: await probeDimension(tenant, parsed.data) };
        const embedder = createEmbedder(tenant, config);
        const cancel = cancelOnInterrupt();
        const bar = process.stderr.isTTY
          ? new cliProgress.SingleBar(
              { stream: process.stderr, format: ' re-embedding {bar} {value}/{total} chunks', clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            )
          : null;
        bar?.start(countDocuments(tenant).chunks, 0);
        try {
          const index = await reembedTenant(tenant, config, embedder, { signal: cancel.signal, onProgress: (p) => bar?.update(p.chunksDone) });
          return { json: index, text: `Vectors now come from ${index.embedderId} (${index.dimension} dimensions)` };
        } finally {
          bar?.stop();
          cancel.dispose();
        }
      }),
    );
}
