import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';
import { writeTenantMeta } from '../vault/tenant-meta.js';
import { readTenantSetting, registerTenantSetting } from '../vault/tenant-settings.js';

/** Which embedder a tenant's vectors come from. The offline hash embedder needs no model. */
export const EmbedderConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hash') }).strict(),
  // The offline embedder tuned to this tenant: the hash vector joined to a term space learnt from
  // its own passages (term-space.ts), stored in its file under this hash. Set by the learning job,
  // never typed by a user.
  z
    .object({
      kind: z.literal('terms'),
      space: z.string().regex(/^[0-9a-f]{64}$/),
      dimension: z.number().int().min(8).max(8192),
      /** Chunks it was learnt from (its setting is shown as the offline embedder, tuned on these). */
      chunks: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ollama'),
      baseUrl: z.url({ protocol: /^https?$/ }),
      model: z.string().min(1).max(200),
      dimension: z.number().int().min(1).max(8192).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('openai'),
      baseUrl: z.url({ protocol: /^https?$/ }),
      model: z.string().min(1).max(200),
      dimension: z.number().int().min(1).max(8192).optional(),
      apiKey: z.string().max(500).optional(),
    })
    .strict(),
  // A GGUF embedding model of the library: its vectors' length and the weights' hash, learnt
  // when it was chosen (other weights under the same name are another feature space).
  z
    .object({
      kind: z.literal('builtin'),
      model: z.string().min(1).max(160),
      dimension: z.number().int().min(1).max(8192),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
]);
export type EmbedderConfig = z.infer<typeof EmbedderConfig>;

export const ChunkerSettings = z
  .object({
    chunkTokens: z.number().int().min(32).max(2048),
    overlapTokens: z.number().int().min(0).max(512),
  })
  .strict()
  .refine((s) => s.overlapTokens < s.chunkTokens, 'the overlap must be smaller than the chunk');
export type ChunkerSettings = z.infer<typeof ChunkerSettings>;

export const DEFAULT_CHUNKER: ChunkerSettings = { chunkTokens: 300, overlapTokens: 50 };
export const DEFAULT_EMBEDDER: EmbedderConfig = { kind: 'hash' };

const KEYS = { embedder: 'knowledge.embedder', chunker: 'knowledge.chunker' } as const;
registerTenantSetting(KEYS.embedder, EmbedderConfig);
registerTenantSetting(KEYS.chunker, ChunkerSettings);

function readJson<T>(tenant: TenantHandle, key: string, schema: z.ZodType<T>, fallback: T): T {
  return readTenantSetting(tenant, key, schema, fallback);
}

function writeJson(tenant: TenantHandle, key: string, value: unknown): void {
  writeTenantMeta(tenant, key, JSON.stringify(value));
}

/**
 * Whether choosing `requested` changes nothing: the offline embedder asked for, on a tenant whose
 * offline embedder is already tuned to it (`terms` is the hash vector plus what it learnt).
 */
export function alreadyTheEmbedder(
  requested: { kind: EmbedderConfig['kind'] },
  current: EmbedderConfig,
): current is Extract<EmbedderConfig, { kind: 'terms' }> {
  return requested.kind === 'hash' && current.kind === 'terms';
}

export function readEmbedderConfig(tenant: TenantHandle): EmbedderConfig {
  return readJson(tenant, KEYS.embedder, EmbedderConfig, DEFAULT_EMBEDDER);
}

export function writeEmbedderConfig(tenant: TenantHandle, config: EmbedderConfig): void {
  writeJson(tenant, KEYS.embedder, EmbedderConfig.parse(config));
}

export function readChunkerSettings(tenant: TenantHandle): ChunkerSettings {
  return readJson(tenant, KEYS.chunker, ChunkerSettings, DEFAULT_CHUNKER);
}

export function writeChunkerSettings(tenant: TenantHandle, input: unknown): ChunkerSettings {
  const parsed = ChunkerSettings.safeParse(input);
  if (!parsed.success) throw new BulkheadError('INPUT_INVALID', parsed.error.issues[0]?.message ?? 'invalid chunker settings');
  writeJson(tenant, KEYS.chunker, parsed.data);
  return parsed.data;
}
