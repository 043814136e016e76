// `bulkhead watch --tenant NAME`: a tenant's watched folders, from the command line.
import type { Command } from 'commander';
import { createEmbedder } from '../embed/index.js';
import { readEmbedderConfig } from '../embed/settings.js';
import {
  addWatchedFolder,
  confirmRemovedFiles,
  removedFiles,
  removeWatchedFolder,
  syncWatchedFolders,
  watchedFolders,
  type SyncSummary,
} from '../ingest/watch.js';
import type { TenantHandle } from '../vault/handle.js';
import { openTenant, wrap } from './context.js';

function summaryText(s: SyncSummary): string {
  const lines = [`${s.added} added, ${s.replaced} changed, ${s.unchanged} unchanged, ${s.failed} failed${s.cancelled ? ' - stopped before the end' : ''}`];
  if (s.removed.length) {
    lines.push(`${s.removed.length} file(s) removed from watched folders (their documents stay until you confirm with --confirm-removed):`);
    for (const r of s.removed) lines.push(`  ${String(r.documentId).padStart(6)}  ${r.sourcePath}`);
  }
  return lines.join('\n');
}

async function sync(tenant: TenantHandle, signal: AbortSignal): Promise<SyncSummary> {
  return syncWatchedFolders(tenant, { embedder: createEmbedder(tenant, readEmbedderConfig(tenant)), signal });
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description("keep a tenant's watched folders in sync: syncs, then keeps watching until Ctrl-C (--once: one sync)")
    .requiredOption('--tenant <tenant>', 'tenant name or id')
    .option('--add <folder>', 'start watching this folder (absolute path)')
    .option('--remove <folder>', 'stop watching this folder (its documents stay)')
    .option('--list', 'list the watched folders and the files removed from them')
    .option('--once', 'sync once and exit')
    .option('--confirm-removed', 'delete the documents whose files were removed from the watched folders')
    .option('--interval <seconds>', 'seconds between syncs while watching', '30')
    .action(
      wrap(async (vault, opts) => {
        const o = opts as { tenant?: string; add?: string; remove?: string; list?: boolean; once?: boolean; confirmRemoved?: boolean; interval: string };
        const tenant = await openTenant(vault, o.tenant);
        if (o.add) addWatchedFolder(tenant, o.add);
        if (o.remove) removeWatchedFolder(tenant, o.remove);
        if (o.confirmRemoved) {
          const ids = removedFiles(tenant).map((r) => r.documentId);
          const deleted = confirmRemovedFiles(tenant, ids);
          return { json: { deleted }, text: `Removed ${deleted} document(s) whose files left the watched folders.` };
        }
        const folders = watchedFolders(tenant);
        if (o.list || o.add || o.remove) {
          const removed = removedFiles(tenant);
          const text = [
            folders.length ? folders.map((f) => `  ${f.path}`).join('\n') : 'No watched folders (watching is off).',
            ...(removed.length
              ? [`${removed.length} file(s) removed from them:`, ...removed.map((r) => `  ${String(r.documentId).padStart(6)}  ${r.sourcePath}`)]
              : []),
          ].join('\n');
          return { json: { folders, removed }, text };
        }
        if (folders.length === 0) return { json: { folders: [] }, text: 'No watched folders: add one with --add /path/to/folder.' };
        const controller = new AbortController();
        const onSigint = (): void => controller.abort();
        process.on('SIGINT', onSigint);
        try {
          let last = await sync(tenant, controller.signal);
          if (o.once) return { json: last, text: summaryText(last) };
          process.stderr.write(`${summaryText(last)}\nwatching ${folders.length} folder(s); Ctrl-C stops\n`);
          const every = Math.max(1, Number(o.interval) || 30) * 1000;
          while (!controller.signal.aborted) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, every);
              controller.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
            });
            if (controller.signal.aborted) break;
            last = await sync(tenant, controller.signal);
            if (last.added || last.replaced || last.failed || last.removed.length) process.stderr.write(`${summaryText(last)}\n`);
          }
          return { json: last, text: 'stopped watching' };
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
