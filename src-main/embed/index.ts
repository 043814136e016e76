import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { EmbedderConfig } from './settings.js';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './embedder.js';
import { HashedEmbedder } from './hashed.js';
import { DEFAULT_TIMEOUT_MS, checkOptions, endpoint, postJson } from './http.js';
import { OllamaEmbedder } from './ollama.js';
import { OpenAiEmbedder } from './openai.js';

/** The embedder a tenant's settings name. Remote ones need their dimension (see probeDimension). */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.kind) {
    case 'hash':
      return new HashedEmbedder();
    case 'ollama':
      return new OllamaEmbedder({ baseUrl: config.baseUrl, model: config.model, dimension: needDimension(config) });
    case 'openai':
      return new OpenAiEmbedder({
        baseUrl: config.baseUrl,
        model: config.model,
        dimension: needDimension(config),
        ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      });
  }
}

function needDimension(config: { dimension?: number | undefined }): number {
  if (!config.dimension) throw new BulkheadError('INPUT_INVALID', 'a remote embedder needs its dimension: probe it first');
  return config.dimension;
}

const ProbeShape = z.union([
  z.object({ embeddings: z.array(z.array(z.number()).min(1)).min(1) }),
  z.object({ data: z.array(z.object({ embedding: z.array(z.number()).min(1) })).min(1) }),
]);

/** Asks a remote model for one vector to learn its length: also a connection test. */
export async function probeDimension(config: Exclude<EmbedderConfig, { kind: 'hash' }>, signal?: AbortSignal): Promise<number> {
  const base = checkOptions({ baseUrl: config.baseUrl, model: config.model, dimension: 1 });
  const url = endpoint(base, config.kind === 'ollama' ? 'api/embed' : 'embeddings');
  const headers: Record<string, string> = config.kind === 'openai' && config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};
  const json = await postJson(url, { model: config.model, input: ['dimension probe'] }, { timeoutMs: DEFAULT_TIMEOUT_MS, headers, ...(signal ? { signal } : {}) });
  const parsed = ProbeShape.safeParse(json);
  if (!parsed.success) throw new EmbedderError('BAD_RESPONSE', `${url} did not answer with an embedding`);
  const length = 'embeddings' in parsed.data ? parsed.data.embeddings[0]!.length : parsed.data.data[0]!.embedding.length;
  if (length > 8192) throw new EmbedderError('BAD_RESPONSE', `${url} returned ${length}-dimensional vectors; at most 8192 are supported`);
  return length;
}
