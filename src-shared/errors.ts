// Error codes the UI and the CLI can act on. Every failure that crosses a boundary carries one.
export const ERROR_CODES = [
  'INPUT_INVALID',
  'NOT_INITIALIZED',
  'ALREADY_INITIALIZED',
  'LOCKED',
  'WRONG_PASSPHRASE',
  'KEYRING_CORRUPT',
  'REGISTRY_CORRUPT',
  'TENANT_NOT_FOUND',
  'DOCUMENT_NOT_FOUND',
  'TENANT_CORRUPT',
  'TENANT_KEY_REJECTED',
  'TENANT_CLOSED',
  'TENANT_BUSY',
  'VERSION_UNSUPPORTED',
  'EMBEDDER_MISMATCH',
  'EMBEDDER_UNAVAILABLE',
  'CANCELLED',
  'NAME_TAKEN',
  'FILE_EXISTS',
  'BUNDLE_INVALID',
  'AUDIT_BROKEN',
  'UNSAFE_PATH',
  'IO_ERROR',
  'UNAUTHORIZED',
  'NO_TENANT_OPEN',
  'PRESENTATION_MODE',
  /** The call named a tenant other than the one open in its window: the view is stale, reload it. */
  'TENANT_CHANGED',
  'UNAVAILABLE',
  'CONVERSATION_NOT_FOUND',
  'MODEL_NOT_CONFIGURED',
  'MODEL_NOT_ALLOWED',
  'MODEL_UNAVAILABLE',
  'ISOLATION_FAILED',
  'MODEL_INVALID',
  'MODEL_TOO_LARGE',
  'MODEL_NOT_FOUND',
  /** A library model of another kind than the slot needs (an embedding model as the chat model). */
  'MODEL_WRONG_KIND',
  'DOWNLOAD_FAILED',
  'CHECKSUM_MISMATCH',
  'CONNECTOR_NOT_FOUND',
  'CONNECTOR_UNAVAILABLE',
  'SANDBOX_UNAVAILABLE',
  'TOOLS_LOCKED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A failure with a code and a message written for the user who will read it. */
export class BulkheadError extends Error {
  override readonly name = 'BulkheadError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isBulkheadError(err: unknown, code?: ErrorCode): err is BulkheadError {
  return err instanceof BulkheadError && (code === undefined || err.code === code);
}
