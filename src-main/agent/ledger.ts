import { appendAudit, type AuditData } from '../vault/audit-chain.js';
import type { TenantHandle } from '../vault/handle.js';

// The agent's entries in the tenant's own audit chain. Data are ids, hashes, counts and names
// of our own making: never text from a document, a prompt or an answer.
export type LedgerKind = 'model.call' | 'tool.call' | 'tool.refused' | 'note.save' | 'conversation.create' | 'answer.withheld';

/** Appends to the open tenant's audit chain; call it outside any transaction. */
export function recordLedger(tenant: TenantHandle, kind: LedgerKind, data: AuditData): void {
  appendAudit(tenant, kind, data);
}
