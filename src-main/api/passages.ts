import type { Passage } from '../../src-shared/contract.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { storedPassages } from '../retrieval/knowledge.js';
import type { TenantHandle } from '../vault/handle.js';

/** One passage of the open tenant, with its provenance: what a citation opens. */
export function readPassage(tenant: TenantHandle, chunkId: number): Passage {
  const found = storedPassages(tenant, [chunkId]).get(chunkId);
  if (!found) throw new BulkheadError('DOCUMENT_NOT_FOUND', 'that passage is no longer in this client’s library');
  const { ordinal: _ordinal, ...passage } = found;
  return passage;
}
