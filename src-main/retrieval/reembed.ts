import { BulkheadError } from '../../src-shared/errors.js';
import type { Embedder } from '../embed/embedder.js';
import { writeEmbedderConfig, type EmbedderConfig } from '../embed/settings.js';
import type { TenantHandle } from '../vault/handle.js';
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
 * Moves a tenant to another embedder: builds a new vector table beside the active one, then
 * switches to it (and to the new embedder setting) in one transaction. Until then search keeps
 * using the old vectors; a cancel or a crash leaves the old index active and whole.
 */
export async function reembedTenant(
  tenant: TenantHandle,
  config: EmbedderConfig,
  embedder: Embedder,
  opts: { signal?: AbortSignal; onProgress?: (p: ReembedProgress) => void } = {},
): Promise<VectorIndex> {
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
            pruneVectors(tenant, next);
            writeEmbedderConfig(tenant, config);
            activateVectorIndex(tenant, next);
            return true;
          })
          .immediate();
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
