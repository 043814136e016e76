import { BulkheadError } from '../../src-shared/errors.js';
import type { Embedder } from '../embed/embedder.js';
import { writeEmbedderConfig, type EmbedderConfig } from '../embed/settings.js';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { packCodes } from '../index/code-pack.js';
import {
  activateVectorIndex,
  activeVectorIndex,
  createVectorTable,
  dropVectorTables,
  insertVectors,
  pruneVectors,
  type VectorIndex,
} from '../index/vectors.js';

const BATCH = 64;

export interface ReembedProgress {
  chunksDone: number;
  chunksTotal: number;
}

/**
 * One re-embed at a time per open tenant (two would build the same generation's tables). A
 * background one (the offline embedder's tuning) gives way: a re-embed the user asked for cancels
 * it and goes next; it starts only when none is running. Its controller is aborted when the
 * tenant closes.
 */
interface Turns {
  tail: Promise<unknown>;
  running: number;
  background: AbortController | null;
}
const TURNS = cacheKey<Turns>('re-embed turns', (t) => t.background?.abort());

function turnsOf(tenant: TenantHandle): Turns {
  return tenant.cache.get(TURNS, () => ({ tail: Promise.resolve(), running: 0, background: null }));
}

function inTurn<T>(turns: Turns, run: () => Promise<T>): Promise<T> {
  turns.running += 1;
  const turn = turns.tail.then(run).finally(() => {
    turns.running -= 1;
  });
  turns.tail = turn.catch(() => {});
  return turn;
}

/**
 * Moves a tenant to another embedder: builds a new vector table beside the active one, then
 * switches to it (and to the new embedder setting) in one transaction. Until then search keeps
 * using the old vectors; a cancel or a crash leaves the old index active and whole.
 */
export function reembedTenant(
  tenant: TenantHandle,
  config: EmbedderConfig,
  embedder: Embedder,
  opts: { signal?: AbortSignal; onProgress?: (p: ReembedProgress) => void } = {},
): Promise<VectorIndex> {
  const turns = turnsOf(tenant);
  turns.background?.abort();
  return inTurn(turns, async () => (await reembed(tenant, config, embedder, opts))!);
}

/**
 * A re-embed nobody asked for (the offline embedder's tuning): null, changing nothing, when another
 * re-embed is running, when one the user asks for arrives meanwhile (it goes first), or when
 * `stillWanted` says no at the switch (it runs in the switch's transaction: the setting it
 * replaces is still the one it started from).
 */
export async function reembedInBackground(
  tenant: TenantHandle,
  config: EmbedderConfig,
  embedder: Embedder,
  opts: { signal?: AbortSignal; stillWanted: () => boolean },
): Promise<VectorIndex | null> {
  const turns = turnsOf(tenant);
  if (turns.running > 0) return null;
  const own = new AbortController();
  turns.background = own;
  const signal = opts.signal ? AbortSignal.any([opts.signal, own.signal]) : own.signal;
  try {
    return await inTurn(turns, () => reembed(tenant, config, embedder, { signal, stillWanted: opts.stillWanted }));
  } catch (err) {
    if (own.signal.aborted && !opts.signal?.aborted) return null;
    throw err;
  } finally {
    if (turns.background === own) turns.background = null;
  }
}

async function reembed(
  tenant: TenantHandle,
  config: EmbedderConfig,
  embedder: Embedder,
  opts: { signal?: AbortSignal; onProgress?: (p: ReembedProgress) => void; stillWanted?: () => boolean },
): Promise<VectorIndex | null> {
  const current = activeVectorIndex(tenant);
  const next: VectorIndex = { generation: (current?.generation ?? 0) + 1, embedderId: embedder.id, dimension: embedder.dimension };
  // Tables of this generation can only be the leftover of an interrupted run.
  dropVectorTables(tenant, next);
  createVectorTable(tenant, next);
  const total = (): number => Number(tenant.db.prepare('SELECT count(*) FROM chunks').pluck().get());
  const batchAfter = tenant.db.prepare('SELECT id, text FROM chunks WHERE id > ? ORDER BY id LIMIT ?');
  let lastId = 0;
  let done = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const rows = batchAfter.all(lastId, BATCH) as { id: number; text: string }[];
      if (rows.length === 0) {
        // Switch only if no chunk arrived meanwhile; nothing can interleave with this sync block.
        const switched = tenant.db
          .transaction(() => {
            if (batchAfter.get(lastId, 1)) return false;
            if (opts.stillWanted && !opts.stillWanted()) return null;
            pruneVectors(tenant, next);
            writeEmbedderConfig(tenant, config);
            activateVectorIndex(tenant, next);
            return true;
          })
          .immediate();
        if (switched === null) {
          dropVectorTables(tenant, next);
          return null;
        }
        if (switched) {
          packCodes(tenant, next);
          return next;
        }
        continue;
      }
      const vectors = await embedder.embed(
        rows.map((r) => r.text),
        opts.signal,
      );
      tenant.db
        .transaction(() =>
          insertVectors(
            tenant,
            next,
            rows.map((r) => r.id),
            vectors,
          ),
        )
        .immediate();
      lastId = rows.at(-1)!.id;
      done += rows.length;
      opts.onProgress?.({ chunksDone: done, chunksTotal: Math.max(done, total()) });
    }
  } catch (err) {
    if (tenant.isOpen && activeVectorIndex(tenant)?.generation !== next.generation) dropVectorTables(tenant, next);
    if (opts.signal?.aborted) throw new BulkheadError('CANCELLED', 're-embedding was cancelled; the previous vectors stay in use');
    throw err;
  }
}
