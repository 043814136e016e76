import { z } from 'zod';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './embedder.js';
import type { HttpEmbedderOptions } from './http.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_TIMEOUT_MS, checkOptions, endpoint, inBatches, postJson, toVectors } from './http.js';

const OpenAiEmbeddingsResponse = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()), index: z.number().int().nonnegative() })),
});

export interface OpenAiEmbedderOptions extends HttpEmbedderOptions {
  /** Sent as `Authorization: Bearer <key>` when set. */
  readonly apiKey?: string;
}

/** OpenAI-compatible: POST {baseUrl}/embeddings {model, input} -> {data: [{embedding, index}]}. */
export class OpenAiEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly url: string;

  constructor(private readonly opts: OpenAiEmbedderOptions) {
    this.url = endpoint(checkOptions(opts), 'embeddings');
    if (opts.apiKey !== undefined && !/^[\x21-\x7e]+$/.test(opts.apiKey)) {
      throw new EmbedderError('INPUT_INVALID', 'the API key has characters an HTTP header cannot carry');
    }
    this.id = `openai:${opts.model}`;
    this.dimension = opts.dimension;
  }

  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const headers: Record<string, string> = this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {};
    return inBatches(texts, this.opts.batchSize ?? DEFAULT_BATCH_SIZE, signal, async (batch) => {
      const json = await postJson(
        this.url,
        { model: this.opts.model, input: batch, encoding_format: 'float' },
        { fetch: this.opts.fetch, timeoutMs: this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, headers, signal },
      );
      const parsed = OpenAiEmbeddingsResponse.safeParse(json);
      if (!parsed.success) throw new EmbedderError('BAD_RESPONSE', `${this.url} answered without a valid "data" array`);
      // Order by `index`, which must name each input exactly once.
      const rows: (number[] | undefined)[] = new Array<number[] | undefined>(batch.length);
      for (const item of parsed.data.data) {
        if (item.index >= batch.length || rows[item.index] !== undefined) {
          throw new EmbedderError('BAD_RESPONSE', `${this.url} returned a vector for input ${item.index} that was not asked for or twice`);
        }
        rows[item.index] = item.embedding;
      }
      if (parsed.data.data.length !== batch.length) {
        throw new EmbedderError('BAD_RESPONSE', `${this.url} returned ${parsed.data.data.length} vectors for ${batch.length} texts`);
      }
      return toVectors(this.url, rows as number[][], batch.length, this.dimension);
    });
  }
}
