// Why a document could not be read, as a code the UI can act on (show "password-protected", offer
// to raise the size limit, ...). Messages are written for the user and never quote the content.
export const PARSE_ERROR_CODES = [
  'UNSUPPORTED_TYPE',
  'NOT_FOUND',
  'UNREADABLE',
  'TOO_LARGE',
  'EMPTY',
  'BINARY',
  'INVALID_ENCODING',
  'CORRUPT',
  'ENCRYPTED',
  'TOO_DEEP',
  'ZIP_BOMB',
  'TIMEOUT',
  'ABORTED',
] as const;

export type ParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    readonly code: ParseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isParseError(err: unknown, code?: ParseErrorCode): err is ParseError {
  return err instanceof ParseError && (code === undefined || err.code === code);
}

/**
 * Throws ABORTED (or TIMEOUT when the deadline fired) if the signal is aborted. Parsers call it
 * between steps: the third-party parsers run synchronously in places and cannot be interrupted
 * mid-step on this thread.
 */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw stoppedError(signal);
}

export function stoppedError(signal: AbortSignal): ParseError {
  const reason: unknown = signal.reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new ParseError('TIMEOUT', 'Reading this document took too long and was stopped.', { cause: reason });
  }
  return new ParseError('ABORTED', 'Reading this document was cancelled.', { cause: reason });
}
