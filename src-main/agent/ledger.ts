import type { TenantHandle } from '../vault/handle.js';

// The agent's entries in the tenant's own audit chain. Data are ids, hashes, counts and names
// of our own making: never text from a document, a prompt or an answer.
export type LedgerKind = 'model.call' | 'tool.call' | 'tool.refused' | 'note.save' | 'conversation.create';
export type LedgerData = Readonly<Record<string, string | number | boolean | null>>;

// PENDING: wired to appendAudit (src-main/audit) when the audit chain lands on main.
export function recordLedger(tenant: TenantHandle, kind: LedgerKind, data: LedgerData): void {
  void tenant;
  void kind;
  void data;
}
