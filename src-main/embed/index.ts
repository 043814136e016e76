import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { tenantEgress } from '../egress/egress.js';
import type { TenantHandle } from '../vault/handle.js';
import type { EmbedderConfig } from './settings.js';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './embedder.js';
import { HashedEmbedder } from './hashed.js';
import { loadTermSpace, TermSpaceEmbedder } from './term-space.js';
import { BuiltinEmbedder } from './builtin.js';
import { libraryModelOfKind, modelRuntime } from '../models/shared.js';
import { DEFAULT_TIMEOUT_MS, checkOptions, endpoint, postJson } from './http.js';
import { OllamaEmbedder } from './ollama.js';
import { OpenAiEmbedder } from './openai.js';

/**
 * The embedder a tenant's settings name, for that tenant only: a remote one sends through the
 * tenant's egress, so its policy and held endpoints apply to every request (a stored endpoint
 * that breaks "local models only" receives nothing). Remote ones need their dimension (see
 * probeDimension).
 */
export function createEmbedder(tenant: TenantHandle, config: EmbedderConfig): Embedder {
  switch (config.kind) {
    case 'hash':
      return new HashedEmbedder();
    case 'terms':
      return new TermSpaceEmbedder({ sha256: config.space, dimension: config.dimension, load: () => loadTermSpace(tenant, config.space) });
    case 'ollama':
      return new OllamaEmbedder({
        baseUrl: config.baseUrl,
        model: config.model,
        dimension: needDimension(config),
        fetch: tenantEgress(tenant, 'embeddings').fetch,
      });
    case 'openai':
      return new OpenAiEmbedder({
        baseUrl: config.baseUrl,
        model: config.model,
        dimension: needDimension(config),
        ...(config.apiKey ? { apiKey: config.apiKey } : {}),
        fetch: tenantEgress(tenant, 'embeddings').fetch,
      });
    case 'builtin':
      // In this process, on an embedding context of this tenant: nothing leaves, no egress.
      return BuiltinEmbedder.fromSettings(modelRuntime(), tenant, config);
  }
}

/**
 * Refuses (MODEL_NOT_ALLOWED) an embedder this tenant's policy does not allow, or one on hold,
 * before a byte is sent: what setting an embedder checks first.
 */
export async function assertEmbedderAllowed(tenant: TenantHandle, config: { kind: EmbedderConfig['kind']; baseUrl?: string }): Promise<void> {
  // The hash, term-space and built-in embedders run in this process: nothing is sent anywhere.
  if (config.kind !== 'hash' && config.kind !== 'terms' && config.kind !== 'builtin') await tenantEgress(tenant, 'embeddings').check(config.baseUrl ?? '');
}

/**
 * The stored form of a built-in embedder choice: the library model, refused unless it is an
 * embedding model (MODEL_NOT_FOUND, MODEL_WRONG_KIND), with its vector length and weights' hash.
 */
export async function builtinEmbedderSettings(model: string): Promise<Extract<EmbedderConfig, { kind: 'builtin' }>> {
  const m = await libraryModelOfKind(model, 'embedding');
  const loaded = await modelRuntime().loadModel(m.name);
  return { kind: 'builtin', model: m.name, dimension: loaded.model.embeddingVectorSize, sha256: loaded.sha256 };
}

function needDimension(config: { dimension?: number | undefined }): number {
  if (!config.dimension) throw new BulkheadError('INPUT_INVALID', 'a remote embedder needs its dimension: probe it first');
  return config.dimension;
}

const ProbeShape = z.union([
  z.object({ embeddings: z.array(z.array(z.number()).min(1)).min(1) }),
  z.object({ data: z.array(z.object({ embedding: z.array(z.number()).min(1) })).min(1) }),
]);

/** Asks a remote model for one vector to learn its length (a connection test, through the tenant's egress). */
export async function probeDimension(
  tenant: TenantHandle,
  config: Extract<EmbedderConfig, { kind: 'ollama' | 'openai' }>,
  signal?: AbortSignal,
): Promise<number> {
  const base = checkOptions({ baseUrl: config.baseUrl, model: config.model, dimension: 1 });
  const egress = tenantEgress(tenant, 'connection-test');
  await egress.check(base);
  const url = endpoint(base, config.kind === 'ollama' ? 'api/embed' : 'embeddings');
  const headers: Record<string, string> = config.kind === 'openai' && config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};
  const json = await postJson(
    url,
    { model: config.model, input: ['dimension probe'] },
    { fetch: egress.fetch, timeoutMs: DEFAULT_TIMEOUT_MS, headers, signal },
  );
  const parsed = ProbeShape.safeParse(json);
  if (!parsed.success) throw new EmbedderError('BAD_RESPONSE', `${url} did not answer with an embedding`);
  const length = 'embeddings' in parsed.data ? parsed.data.embeddings[0]!.length : parsed.data.data[0]!.embedding.length;
  if (length > 8192) throw new EmbedderError('BAD_RESPONSE', `${url} returned ${length}-dimensional vectors; at most 8192 are supported`);
  return length;
}
