import { z } from 'zod';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './embedder.js';
import type { HttpEmbedderOptions } from './http.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_TIMEOUT_MS, checkOptions, endpoint, inBatches, postJson, toVectors } from './http.js';

// JSON has no NaN or Infinity, but `1e400` parses to Infinity: z.number() refuses it.
const OllamaEmbedResponse = z.object({ embeddings: z.array(z.array(z.number())) });

/** Ollama's native endpoint: POST {baseUrl}/api/embed {model, input: string[]} -> {embeddings}. */
export class OllamaEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly url: string;

  constructor(private readonly opts: HttpEmbedderOptions) {
    this.url = endpoint(checkOptions(opts), 'api/embed');
    this.id = `ollama:${opts.model}`;
    this.dimension = opts.dimension;
  }

  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    return inBatches(texts, this.opts.batchSize ?? DEFAULT_BATCH_SIZE, signal, async (batch) => {
      const json = await postJson(
        this.url,
        { model: this.opts.model, input: batch },
        { fetch: this.opts.fetch, timeoutMs: this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal },
      );
      const parsed = OllamaEmbedResponse.safeParse(json);
      if (!parsed.success) throw new EmbedderError('BAD_RESPONSE', `${this.url} answered without a valid "embeddings" array`);
      return toVectors(this.url, parsed.data.embeddings, batch.length, this.dimension);
    });
  }
}
