import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';

/** A conversation of the open tenant; ids are the tenant's own (another tenant's id means nothing here). */
export interface Conversation {
  id: number;
  title: string;
  createdAt: string;
  updatedAt: string;
}

export type AnswerMode = 'generated' | 'retrieval-only';

export interface StoredMessage {
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  mode: AnswerMode | null;
  /** Citation ids with their chunk ids, as the answer gave them. */
  citations: { id: string; chunkId: number }[];
  model: string | null;
  manifestHash: string | null;
  createdAt: string;
}

export interface NewTurn {
  question: string;
  answer: string;
  mode: AnswerMode;
  citations: { id: string; chunkId: number }[];
  model: string | null;
  manifestHash: string | null;
}

const MAX_TITLE = 80;

export function createConversation(tenant: TenantHandle, firstQuestion: string): Conversation {
  const now = new Date().toISOString();
  const title = firstQuestion.replace(/\s+/g, ' ').trim().slice(0, MAX_TITLE) || 'Conversation';
  const { lastInsertRowid } = tenant.db.prepare('INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)').run(title, now, now);
  return { id: Number(lastInsertRowid), title, createdAt: now, updatedAt: now };
}

export function getConversation(tenant: TenantHandle, id: number): Conversation {
  const row = tenant.db.prepare('SELECT id, title, created_at AS createdAt, updated_at AS updatedAt FROM conversations WHERE id = ?').get(id) as
    | Conversation
    | undefined;
  if (!row) throw new BulkheadError('CONVERSATION_NOT_FOUND', `no conversation ${id} in this tenant`);
  return row;
}

export function listConversations(tenant: TenantHandle, limit = 50): Conversation[] {
  return tenant.db
    .prepare('SELECT id, title, created_at AS createdAt, updated_at AS updatedAt FROM conversations ORDER BY updated_at DESC, id DESC LIMIT ?')
    .all(Math.max(1, Math.min(limit, 1000))) as Conversation[];
}

interface MessageRow {
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  mode: AnswerMode | null;
  citations: string;
  model: string | null;
  manifest_hash: string | null;
  created_at: string;
}

export function listMessages(tenant: TenantHandle, conversationId: number): StoredMessage[] {
  const rows = tenant.db
    .prepare('SELECT seq, role, content, mode, citations, model, manifest_hash, created_at FROM messages WHERE conversation_id = ? ORDER BY seq')
    .all(conversationId) as MessageRow[];
  return rows.map((r) => ({
    seq: r.seq,
    role: r.role,
    content: r.content,
    mode: r.mode,
    citations: JSON.parse(r.citations) as StoredMessage['citations'],
    model: r.model,
    manifestHash: r.manifest_hash,
    createdAt: r.created_at,
  }));
}

/**
 * Appends a whole turn (question and answer) in one transaction, only once the answer is final:
 * a failed or cancelled answer leaves the conversation exactly as it was.
 */
export function appendTurn(tenant: TenantHandle, conversationId: number, turn: NewTurn): void {
  const db = tenant.db;
  db.transaction(() => {
    getConversation(tenant, conversationId);
    const last = Number(db.prepare('SELECT coalesce(max(seq), 0) FROM messages WHERE conversation_id = ?').pluck().get(conversationId));
    const now = new Date().toISOString();
    const insert = db.prepare(
      'INSERT INTO messages (conversation_id, seq, role, content, mode, citations, model, manifest_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run(conversationId, last + 1, 'user', turn.question, null, '[]', null, null, now);
    insert.run(conversationId, last + 2, 'assistant', turn.answer, turn.mode, JSON.stringify(turn.citations), turn.model, turn.manifestHash, now);
    db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(now, conversationId);
  })();
}
