// Tunes the offline embedder to a tenant: learns a term space from the tenant's own passages
// (embed/term-space.ts) and re-embeds it, in the background, as calibration.ts does for the fusion
// weight. A search of a tenant on the offline embedder with at least TERM_SPACE_MIN_CHUNKS chunks
// and no current space (none yet, or one learnt at under half or over twice the chunks there are
// now, or one that does not load) starts one; searches go on with the vectors they have until the
// new ones are all written, then switch in one transaction (retrieval/reembed.ts). Nothing is
// learnt from, or stored in, anything but the tenant's own file; a user's own embedder choice is
// never overridden (the switch happens only while the setting is still the offline one it started
// from), and a re-embed the user asks for cancels this one. A failure leaves everything as it was
// and never fails a search.
import { BulkheadError } from '../../src-shared/errors.js';
import { EmbedderError } from '../embed/embedder.js';
import { createEmbedder } from '../embed/index.js';
import { mulberry32 } from '../../src-shared/seeded-random.js';
import { readEmbedderConfig, type EmbedderConfig } from '../embed/settings.js';
import { loadTermSpace, pruneTermSpaces, saveTermSpace, TERM_SPACE_SETTINGS, termSpaceDimension } from '../embed/term-space.js';
import { learnTermSpaceOffThread, TooLittleText } from '../embed/term-space-worker.js';
import { termStats } from '../index/term-stats.js';
import { activeVectorIndex } from '../index/vectors.js';
import type { TenantHandle } from '../vault/handle.js';
import { backgroundJobKey, pendingInBackground, startInBackground } from './background-job.js';
import { reembedInBackground, reembedRunning } from './reembed.js';

/** Below this many chunks the offline embedder stays the plain hash vectors (too little text to learn word neighbours from). */
export const TERM_SPACE_MIN_CHUNKS = 500;
/** Learn again when the chunk count has moved by this factor either way. */
const GROWTH = 2;

export type TermSpaceOutcome =
  | { readonly kind: 'tuned'; readonly config: Extract<EmbedderConfig, { kind: 'terms' }> }
  /** Nothing to do: another embedder, too few chunks, or the current space still fits. */
  | { readonly kind: 'not-due'; readonly reason: string }
  /** The passages share too few words, or another re-embed went first. */
  | { readonly kind: 'skipped'; readonly reason: string };

/** Whether this tenant's offline embedder should learn (again), and at what chunk count. */
export function termSpaceDue(tenant: TenantHandle): number | null {
  const config = readEmbedderConfig(tenant);
  if (config.kind !== 'hash' && config.kind !== 'terms') return null;
  const chunks = termStats(tenant, []).total;
  if (chunks < TERM_SPACE_MIN_CHUNKS) return null;
  if (config.kind === 'terms' && chunks < config.chunks * GROWTH && chunks * GROWTH > config.chunks) {
    try {
      loadTermSpace(tenant, config.space);
      return null;
    } catch {
      return chunks; // missing or damaged: learnt again
    }
  }
  return chunks;
}

/** The passages to learn from: all chunks, or a seeded sample of TERM_SPACE_SETTINGS.maxTrainingChunks, in id order. */
function trainingTexts(tenant: TenantHandle): string[] {
  const ids = tenant.db.prepare('SELECT id FROM chunks ORDER BY id').pluck().all() as number[];
  const max = TERM_SPACE_SETTINGS.maxTrainingChunks;
  let chosen = ids;
  if (ids.length > max) {
    // A partial Fisher-Yates shuffle, then back to id order.
    const random = mulberry32(TERM_SPACE_SETTINGS.seed);
    const pool = ids.slice();
    for (let i = 0; i < max; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    chosen = pool.slice(0, max).sort((a, b) => a - b);
  }
  return tenant.db.prepare('SELECT text FROM chunks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').pluck().all(JSON.stringify(chosen)) as string[];
}

/**
 * Learns this tenant's term space now and switches its vectors to it, if it is due (or `force`d,
 * for a tenant on the offline embedder with enough chunks). Throws what fails (the tenant
 * closing, a cancel); the previous vectors and setting stay whole whatever happens.
 */
export async function tuneOfflineEmbedder(tenant: TenantHandle, opts: { signal?: AbortSignal; force?: boolean } = {}): Promise<TermSpaceOutcome> {
  try {
    return await tune(tenant, opts);
  } catch (err) {
    // Typed for the caller (the CLI's exit codes): a cancel, or the model failing to embed.
    if (opts.signal?.aborted) throw new BulkheadError('CANCELLED', 'tuning the offline embedder was cancelled; the previous vectors stay in use');
    if (err instanceof EmbedderError) throw new BulkheadError('EMBEDDER_UNAVAILABLE', `tuning the offline embedder failed: ${err.message}`);
    throw err;
  }
}

async function tune(tenant: TenantHandle, opts: { signal?: AbortSignal; force?: boolean }): Promise<TermSpaceOutcome> {
  const before = readEmbedderConfig(tenant);
  const generation = activeVectorIndex(tenant)?.generation ?? 0;
  if (before.kind !== 'hash' && before.kind !== 'terms')
    return { kind: 'not-due', reason: `the tenant uses ${before.kind}; only the offline embedder (hash) is tuned` };
  const total = termStats(tenant, []).total;
  if (total < TERM_SPACE_MIN_CHUNKS) return { kind: 'not-due', reason: `the tenant needs at least ${TERM_SPACE_MIN_CHUNKS} chunks to learn from` };
  const chunks = termSpaceDue(tenant) ?? (opts.force ? total : null);
  if (chunks === null) return { kind: 'not-due', reason: 'its term space still fits its passages' };
  let bytes: Uint8Array;
  try {
    bytes = await learnTermSpaceOffThread(trainingTexts(tenant), opts.signal);
  } catch (err) {
    if (err instanceof TooLittleText) return { kind: 'skipped', reason: err.message };
    throw err;
  }
  opts.signal?.throwIfAborted();
  const sha256 = saveTermSpace(tenant, bytes);
  const space = loadTermSpace(tenant, sha256);
  const config: Extract<EmbedderConfig, { kind: 'terms' }> = { kind: 'terms', space: sha256, dimension: termSpaceDimension(space.rank), chunks };
  const index = await reembedInBackground(tenant, config, createEmbedder(tenant, config), {
    ...(opts.signal ? { signal: opts.signal } : {}),
    // The user may have chosen another embedder, or re-embedded, meanwhile: theirs stays.
    stillWanted: () => JSON.stringify(readEmbedderConfig(tenant)) === JSON.stringify(before) && (activeVectorIndex(tenant)?.generation ?? 0) === generation,
  });
  if (!index) {
    // Not switched: its model goes, unless a re-embed is running (another window's tuning may be
    // about to use the very same one, learnt from the same passages).
    tenant.db
      .transaction(() => {
        if (reembedRunning(tenant)) return;
        const now = readEmbedderConfig(tenant);
        pruneTermSpaces(tenant, now.kind === 'terms' ? now.space : null);
      })
      .immediate();
    return { kind: 'skipped', reason: 'another re-embed of this tenant went first' };
  }
  // Only the space in use stays in the file.
  pruneTermSpaces(tenant, sha256);
  return { kind: 'tuned', config };
}

/** The tuning running in the background for an open tenant (one at a time), in its cache. */
const IN_FLIGHT = backgroundJobKey<TermSpaceOutcome>('term space tuning in flight');

/**
 * Starts the tuning in the background when it is due (at most one at a time per open tenant),
 * after the search that asked has gone on. Never throws.
 */
export function tuneWhenDue(tenant: TenantHandle): void {
  try {
    const chunks = termSpaceDue(tenant);
    if (chunks !== null) startInBackground(tenant, IN_FLIGHT, chunks, (signal) => tuneOfflineEmbedder(tenant, { signal }));
  } catch {
    // A tenant that cannot say (closing, damaged settings) is simply not tuned now.
  }
}

/** The tuning running in the background for this tenant, if any (it resolves to null on failure). */
export function pendingTuning(tenant: TenantHandle): Promise<TermSpaceOutcome | null> | undefined {
  return pendingInBackground(tenant, IN_FLIGHT);
}
