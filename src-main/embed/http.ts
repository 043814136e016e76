// The one way embedders talk HTTP: a JSON POST with a deadline, every failure mapped to an
// EmbedderError (a refusal by the tenant's egress stays the typed BulkheadError it is). The fetch
// is always the tenant's egress (src-main/egress): this module opens no connection of its own. Error messages name the endpoint and status, never the response body (it may
// echo the tenant's text, and error messages reach app-wide logs).
import { BulkheadError } from '../../src-shared/errors.js';
import { EmbedderError } from './embedder.js';

export interface HttpEmbedderOptions {
  /** e.g. `http://127.0.0.1:11434` (Ollama) or `http://127.0.0.1:8080/v1` (OpenAI-compatible). */
  readonly baseUrl: string;
  readonly model: string;
  /** The vector length this model returns; every response is checked against it. */
  readonly dimension: number;
  /** Per request, including reading the body. Default 30 s. */
  readonly timeoutMs?: number;
  /** Texts per request. Default 32. */
  readonly batchSize?: number;
  /** The tenant's egress fetch (tenantEgress(handle, 'embeddings').fetch): the only way out. */
  readonly fetch: typeof fetch;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_BATCH_SIZE = 32;
/** A response larger than this is refused rather than parsed. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export function checkOptions(opts: Omit<HttpEmbedderOptions, 'fetch'>): URL {
  let url: URL;
  try {
    url = new URL(opts.baseUrl);
  } catch (err) {
    throw new EmbedderError('INPUT_INVALID', `not a URL: ${JSON.stringify(opts.baseUrl)}`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EmbedderError('INPUT_INVALID', `embedding endpoints are http or https, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new EmbedderError('INPUT_INVALID', 'put credentials in the API key, not in the URL');
  }
  if (!Number.isInteger(opts.dimension) || opts.dimension < 1 || opts.dimension > 8192) {
    throw new EmbedderError('INPUT_INVALID', `unsupported embedding dimension ${opts.dimension}`);
  }
  if (opts.model.trim() === '') throw new EmbedderError('INPUT_INVALID', 'an embedding model name is required');
  return url;
}

/** `base` + `/path`, keeping any path the base already has (`/v1`). */
export function endpoint(base: URL, path: string): string {
  return `${base.href.replace(/\/+$/, '')}/${path}`;
}

export async function postJson(
  url: string,
  body: unknown,
  opts: { fetch: typeof fetch; timeoutMs: number; headers?: Record<string, string>; signal?: AbortSignal | undefined },
): Promise<unknown> {
  if (opts.signal?.aborted) throw new EmbedderError('ABORTED', 'embedding was cancelled', { cause: opts.signal.reason });
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const failed = (err: unknown): EmbedderError | BulkheadError => {
    if (err instanceof EmbedderError || err instanceof BulkheadError) return err;
    if (opts.signal?.aborted) return new EmbedderError('ABORTED', 'embedding was cancelled', { cause: err });
    if (timeout.aborted) return new EmbedderError('TIMEOUT', `${url} did not answer within ${opts.timeoutMs} ms`, { cause: err });
    return new EmbedderError('UNREACHABLE', `cannot reach ${url}`, { cause: err });
  };
  let res: Response;
  try {
    res = await opts.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      signal,
      redirect: 'error', // a redirect could carry the texts (and the key) somewhere else
    });
  } catch (err) {
    throw failed(err);
  }
  let text: string;
  try {
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_RESPONSE_BYTES) throw new EmbedderError('BAD_RESPONSE', `${url} sent ${declared} bytes, more than an embedding response needs`);
    text = await res.text();
  } catch (err) {
    throw failed(err);
  }
  if (!res.ok) throw new EmbedderError('HTTP_ERROR', `${url} answered HTTP ${res.status}`);
  if (text.length > MAX_RESPONSE_BYTES) throw new EmbedderError('BAD_RESPONSE', `${url} sent more than an embedding response needs`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new EmbedderError('BAD_RESPONSE', `${url} did not answer with JSON`, { cause: err });
  }
}

/** Checks count and length of the vectors and converts them. */
export function toVectors(url: string, rows: readonly (readonly number[])[], expectedCount: number, dimension: number): Float32Array[] {
  if (rows.length !== expectedCount) {
    throw new EmbedderError('BAD_RESPONSE', `${url} returned ${rows.length} vectors for ${expectedCount} texts`);
  }
  return rows.map((row) => {
    if (row.length !== dimension) {
      throw new EmbedderError('DIMENSION_MISMATCH', `${url} returned ${row.length}-dimensional vectors, expected ${dimension}`);
    }
    return Float32Array.from(row);
  });
}

export async function inBatches(
  texts: readonly string[],
  size: number,
  signal: AbortSignal | undefined,
  run: (batch: string[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += size) {
    if (signal?.aborted) throw new EmbedderError('ABORTED', 'embedding was cancelled', { cause: signal.reason });
    out.push(...(await run(texts.slice(i, i + size))));
  }
  return out;
}
