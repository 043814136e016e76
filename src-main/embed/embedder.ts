/**
 * Turns passages into fixed-length vectors. `id` names the exact feature space (model and
 * version): vectors made under one id are never compared with vectors made under another, so a
 * tenant records the id it was indexed with and re-embeds when it changes.
 */
export interface Embedder {
  /** e.g. 'hash-v1', 'ollama:nomic-embed-text'. */
  readonly id: string;
  readonly dimension: number;
  /** One vector per input text, in input order, each `dimension` long. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export const EMBEDDER_ERROR_CODES = [
  'UNREACHABLE',
  'BAD_RESPONSE',
  'DIMENSION_MISMATCH',
  'TIMEOUT',
  'ABORTED',
  'HTTP_ERROR',
  'INPUT_INVALID',
  'CORRUPT',
] as const;

export type EmbedderErrorCode = (typeof EMBEDDER_ERROR_CODES)[number];

/** A failure to embed, with a code the caller can act on (retry, re-index, tell the user). */
export class EmbedderError extends Error {
  override readonly name = 'EmbedderError';
  constructor(
    readonly code: EmbedderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isEmbedderError(err: unknown, code?: EmbedderErrorCode): err is EmbedderError {
  return err instanceof EmbedderError && (code === undefined || err.code === code);
}
