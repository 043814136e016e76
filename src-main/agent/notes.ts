import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import type { TenantHandle } from '../vault/handle.js';

/** A note the user (or, with confirmation, the agent) saves into the open tenant. */
export const NoteInput = z
  .object({
    title: z.string().trim().min(1, 'a note needs a title').max(300, 'a note title can be at most 300 characters'),
    body: z.string().max(1_000_000, 'a note can be at most 1,000,000 characters'),
  })
  .strict();
export type NoteInput = z.infer<typeof NoteInput>;

export interface Note {
  id: number;
  title: string;
  body: string;
  createdAt: string;
}

export function addNote(tenant: TenantHandle, input: unknown): Note {
  const parsed = NoteInput.safeParse(input);
  if (!parsed.success) throw new BulkheadError('INPUT_INVALID', parsed.error.issues[0]?.message ?? 'invalid note');
  const createdAt = new Date().toISOString();
  const { lastInsertRowid } = tenant.db
    .prepare('INSERT INTO notes (title, body, created_at) VALUES (?, ?, ?)')
    .run(parsed.data.title, parsed.data.body, createdAt);
  return { id: Number(lastInsertRowid), ...parsed.data, createdAt };
}

export function listNotes(tenant: TenantHandle, limit = 50): Note[] {
  return tenant.db
    .prepare('SELECT id, title, body, created_at AS createdAt FROM notes ORDER BY id DESC LIMIT ?')
    .all(Math.max(1, Math.min(limit, 1000))) as Note[];
}

export function countNotes(tenant: TenantHandle): number {
  return Number(tenant.db.prepare('SELECT count(*) FROM notes').pluck().get());
}
