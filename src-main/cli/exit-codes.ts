import type { ErrorCode } from '../../src-shared/errors.js';

/** Exit codes scripts can branch on; documented in README.md. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  damaged: 5,
  conflict: 6,
  unavailable: 7,
  /** `ingest`: some files failed, the others are in (each failure is listed with its reason). */
  someFailed: 8,
  /** `ingest`: nothing was ingested (every path failed, or none held a file of a supported type). */
  nothingIngested: 9,
  cancelled: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'INPUT_INVALID':
    case 'UNSAFE_PATH':
    case 'MODEL_WRONG_KIND':
      return EXIT.usage;
    case 'WRONG_PASSPHRASE':
    case 'UNAUTHORIZED':
    case 'PRESENTATION_MODE':
    case 'LOCKED':
    case 'NOT_INITIALIZED':
      return EXIT.auth;
    case 'TENANT_NOT_FOUND':
    case 'DOCUMENT_NOT_FOUND':
    case 'CONVERSATION_NOT_FOUND':
    case 'MODEL_NOT_FOUND':
    case 'CONNECTOR_NOT_FOUND':
      return EXIT.notFound;
    case 'TENANT_CORRUPT':
    case 'REGISTRY_CORRUPT':
    case 'KEYRING_CORRUPT':
    case 'TENANT_KEY_REJECTED':
    case 'VERSION_UNSUPPORTED':
    case 'ISOLATION_FAILED':
    case 'BUNDLE_INVALID':
    case 'AUDIT_BROKEN':
    case 'MODEL_INVALID':
    case 'CHECKSUM_MISMATCH':
      return EXIT.damaged;
    case 'NAME_TAKEN':
    case 'FILE_EXISTS':
    case 'ALREADY_INITIALIZED':
    case 'TENANT_BUSY':
    case 'TENANT_CHANGED':
      return EXIT.conflict;
    case 'EMBEDDER_MISMATCH':
      return EXIT.conflict;
    case 'EMBEDDER_UNAVAILABLE':
    case 'UNAVAILABLE':
    case 'MODEL_UNAVAILABLE':
    case 'MODEL_NOT_CONFIGURED':
    case 'MODEL_TOO_LARGE':
    case 'DOWNLOAD_FAILED':
    case 'CONNECTOR_UNAVAILABLE':
    case 'SANDBOX_UNAVAILABLE':
      return EXIT.unavailable;
    case 'TOOLS_LOCKED':
      return EXIT.auth;
    case 'MODEL_NOT_ALLOWED':
      return EXIT.auth;
    case 'CANCELLED':
      return EXIT.cancelled;
    case 'TENANT_CLOSED':
    case 'NO_TENANT_OPEN':
    case 'IO_ERROR':
    case 'INTERNAL':
      return EXIT.failure;
  }
}
