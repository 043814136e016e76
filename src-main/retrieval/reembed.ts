import crypto from 'node:crypto';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { Embedder } from '../embed/embedder.js';
import { writeEmbedderConfig, type EmbedderConfig } from '../embed/settings.js';
import type { TenantHandle } from '../vault/handle.js';
import { cacheKey } from '../vault/tenant-cache.js';
import { deleteTenantMeta, readTenantMeta, writeTenantMeta } from '../vault/tenant-meta.js';
import { registerTenantSetting, settingParses } from '../vault/tenant-settings.js';
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

/**
 * The re-embed building a generation, in the tenant's file, so that two handles (two windows) or
 * two processes (the console and the CLI) never build the same generation's tables, nor drop the
 * other's. Renewed at every batch; one not renewed for CLAIM_STALE_MS is a run that died. A run
 * the user asked for takes over from a live one (which stops at its next batch); a background one
 * yields to it.
 */
const CLAIM_KEY = 'knowledge.vectors.building';
const Claim = z.object({ generation: z.number().int().min(1), token: z.string().min(1).max(64), at: z.number().int().min(0) }).strict();
type Claim = z.infer<typeof Claim>;
registerTenantSetting(CLAIM_KEY, Claim);
const CLAIM_STALE_MS = 120_000;

function readClaim(tenant: TenantHandle): Claim | null {
  const raw = readTenantMeta(tenant, CLAIM_KEY);
  return raw !== undefined && settingParses(raw, Claim) ? Claim.parse(JSON.parse(raw)) : null;
}

function isLive(claim: Claim | null): boolean {
  return claim !== null && Date.now() - claim.at < CLAIM_STALE_MS;
}

/** Whether a re-embed of this tenant is running (in this or another handle or process). */
export function reembedRunning(tenant: TenantHandle): boolean {
  return isLive(readClaim(tenant));
}

/** Renews this run's claim (inside the caller's transaction); TENANT_BUSY once another run took it over. */
function holdClaim(tenant: TenantHandle, token: string): void {
  const claim = readClaim(tenant);
  if (claim?.token !== token)
    throw new BulkheadError('TENANT_BUSY', 'another re-embed of this tenant took over (in another window or process); the vectors it builds will be used');
  writeTenantMeta(tenant, CLAIM_KEY, JSON.stringify({ ...claim, at: Date.now() }));
}

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
  const token = crypto.randomUUID();
  /** The generation of a live run this one took over: its tables go at the switch (if that run died, nobody else would drop them). */
  let takenOver: number | null = null;
  const next = tenant.db
    .transaction((): VectorIndex | null => {
      const current = activeVectorIndex(tenant);
      const claim = readClaim(tenant);
      const live = isLive(claim);
      // A background run yields to any other that is running.
      if (live && opts.stillWanted) return null;
      // A run that died left its tables; one that is taken over drops its own when it notices.
      if (claim && !live && claim.generation !== current?.generation) dropVectorTables(tenant, claim);
      if (claim && live) takenOver = claim.generation;
      const index: VectorIndex = {
        generation: Math.max(current?.generation ?? 0, claim?.generation ?? 0) + 1,
        embedderId: embedder.id,
        dimension: embedder.dimension,
      };
      // Tables of this generation can only be the leftover of an interrupted run.
      dropVectorTables(tenant, index);
      createVectorTable(tenant, index);
      writeTenantMeta(tenant, CLAIM_KEY, JSON.stringify({ generation: index.generation, token, at: Date.now() }));
      return index;
    })
    .immediate();
  if (!next) return null;
  const total = (): number => Number(tenant.db.prepare('SELECT count(*) FROM chunks').pluck().get());
  const batchAfter = tenant.db.prepare('SELECT id, text FROM chunks WHERE id > ? ORDER BY id LIMIT ?');
  let lastId = 0;
  let done = 0;
  try {
    for (;;) {
      // Searches and other requests of this process go between batches (an embedder that answers
      // at once, as the offline one does, would otherwise hold the thread for the whole run).
      await new Promise((resolve) => setImmediate(resolve));
      opts.signal?.throwIfAborted();
      const rows = batchAfter.all(lastId, BATCH) as { id: number; text: string }[];
      if (rows.length === 0) {
        // Switch only if no chunk arrived meanwhile; nothing can interleave with this sync block.
        const switched = tenant.db
          .transaction(() => {
            holdClaim(tenant, token);
            if (batchAfter.get(lastId, 1)) return false;
            deleteTenantMeta(tenant, CLAIM_KEY);
            if (opts.stillWanted && !opts.stillWanted()) return null;
            pruneVectors(tenant, next);
            writeEmbedderConfig(tenant, config);
            activateVectorIndex(tenant, next);
            if (takenOver !== null && takenOver !== next.generation) dropVectorTables(tenant, { generation: takenOver });
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
        .transaction(() => {
          holdClaim(tenant, token);
          insertVectors(
            tenant,
            next,
            rows.map((r) => r.id),
            vectors,
          );
        })
        .immediate();
      lastId = rows.at(-1)!.id;
      done += rows.length;
      opts.onProgress?.({ chunksDone: done, chunksTotal: Math.max(done, total()) });
    }
  } catch (err) {
    if (tenant.isOpen) {
      tenant.db
        .transaction(() => {
          if (activeVectorIndex(tenant)?.generation !== next.generation) dropVectorTables(tenant, next);
          if (readClaim(tenant)?.token === token) deleteTenantMeta(tenant, CLAIM_KEY);
        })
        .immediate();
    }
    if (opts.signal?.aborted) throw new BulkheadError('CANCELLED', 're-embedding was cancelled; the previous vectors stay in use');
    throw err;
  }
}
