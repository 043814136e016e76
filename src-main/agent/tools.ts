import crypto from 'node:crypto';
import { z } from 'zod';
import { isBulkheadError } from '../../src-shared/errors.js';
import { connectorToolSpecs, isConnectorToolName, runConnectorTool, type ConnectorConfirmation, type ConnectorRefusal } from '../connectors/calls.js';
import { getDocument, listDocuments } from '../ingest/documents.js';
import { searchKnowledge, type Passage } from '../retrieval/knowledge.js';
import type { TenantHandle } from '../vault/handle.js';
import { recordLedger } from './ledger.js';
import { addNote } from './notes.js';
import type { ToolCallRequest, ToolSpec } from './provider.js';

// The model's tools. Each is bound to the session's open tenant: none takes a tenant id, a path
// or a query language, and every argument is validated like user input (extra keys refused).

const DocumentId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const TOOL_ARGS = {
  search_knowledge: z
    .object({
      query: z.string().trim().min(1).max(500).describe('what to look for, in words'),
      k: z.number().int().min(1).max(10).optional().describe('passages to return (default 5)'),
    })
    .strict(),
  read_document: z
    .object({
      documentId: DocumentId.describe('a document id from list_documents or a passage'),
      fromChunk: z.number().int().min(0).max(1_000_000).optional().describe('first chunk to read (default 0)'),
      maxChunks: z.number().int().min(1).max(10).optional().describe('chunks to read (default 5)'),
    })
    .strict(),
  list_documents: z
    .object({
      filter: z.string().trim().max(200).optional().describe('only titles containing this'),
      limit: z.number().int().min(1).max(50).optional(),
      offset: z.number().int().min(0).max(1_000_000).optional(),
    })
    .strict(),
  save_note: z
    .object({
      title: z.string().trim().min(1).max(200),
      body: z.string().min(1).max(20_000),
    })
    .strict(),
} as const;

export type ToolName = keyof typeof TOOL_ARGS;
export const TOOL_NAMES = Object.keys(TOOL_ARGS) as ToolName[];

const DESCRIPTIONS: Record<ToolName, string> = {
  search_knowledge: "Search this workspace's documents. Returns passages with citation ids.",
  read_document: 'Read consecutive chunks of one document of this workspace.',
  list_documents: "List this workspace's documents (id and title).",
  save_note: 'Save a note in this workspace. The user is asked to confirm first.',
};

/** The tool list sent to the model, generated from the same schemas that validate the calls. */
export const TOOL_SPECS: ToolSpec[] = TOOL_NAMES.map((name) => ({
  type: 'function',
  function: { name, description: DESCRIPTIONS[name], parameters: z.toJSONSchema(TOOL_ARGS[name]) as Record<string, unknown> },
}));

/** The built-ins and the open tenant's allowed connector tools (names `mcp__…`, which no built-in has). */
export function toolSpecsFor(tenant: TenantHandle): ToolSpec[] {
  return [...TOOL_SPECS, ...connectorToolSpecs(tenant)];
}

/** Longer arguments are refused before they are parsed. */
export const MAX_TOOL_ARGUMENT_BYTES = 8 * 1024;

export interface NoteConfirmation {
  tool: 'save_note';
  title: string;
  body: string;
}

/** Asks the user; resolves true to allow. Absent means every write is declined. */
export type ConfirmFn = (request: NoteConfirmation | ConnectorConfirmation) => Promise<boolean>;

export interface ToolContext {
  tenant: TenantHandle;
  confirm?: ConfirmFn;
  signal?: AbortSignal;
  /** Gives passages citation ids the answer may use; returns those ids. */
  cite: (passages: readonly Passage[]) => string[];
}

export type RefusalReason =
  | ConnectorRefusal
  | 'unknown_tool'
  | 'oversized_arguments'
  | 'invalid_json'
  | 'invalid_arguments'
  | 'not_found'
  | 'declined'
  | 'step_limit'
  | 'too_many_calls'
  | 'context_full';

/** Tool calls run per model turn; the rest of that turn's calls are refused. */
export const MAX_TOOL_CALLS_PER_STEP = 32;

export interface ToolOutcome {
  ok: boolean;
  /** What goes back to the model as the tool message (JSON). */
  content: string;
  reason?: RefusalReason;
}

const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');

function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as string[]).includes(name);
}

/** Refuses a call, tells the model why, and writes the refusal to the tenant's ledger (hashes, not text). */
export function refuseToolCall(tenant: TenantHandle, call: ToolCallRequest, reason: RefusalReason, message: string): ToolOutcome {
  recordLedger(tenant, 'tool.refused', {
    tool: isToolName(call.name) ? call.name : 'unknown',
    toolNameSha256: sha256(call.name),
    reason,
    argumentBytes: Buffer.byteLength(call.arguments),
    argumentsSha256: sha256(call.arguments),
  });
  return { ok: false, reason, content: JSON.stringify({ error: reason, message }) };
}

function parseArguments(call: ToolCallRequest & { name: ToolName }): { ok: true; args: unknown } | { ok: false; reason: RefusalReason; message: string } {
  if (Buffer.byteLength(call.arguments) > MAX_TOOL_ARGUMENT_BYTES) {
    return { ok: false, reason: 'oversized_arguments', message: `arguments larger than ${MAX_TOOL_ARGUMENT_BYTES} bytes are refused` };
  }
  let json: unknown;
  try {
    json = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    return { ok: false, reason: 'invalid_json', message: 'the arguments are not valid JSON' };
  }
  const parsed = TOOL_ARGS[call.name].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid_arguments', message: `invalid arguments: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, args: parsed.data };
}

function passageView(p: Passage, citationId: string): Record<string, unknown> {
  return { citationId, documentId: p.documentId, title: p.title, page: p.page, text: p.text };
}

async function execute(ctx: ToolContext, name: ToolName, args: unknown): Promise<Record<string, unknown>> {
  const { tenant } = ctx;
  switch (name) {
    case 'search_knowledge': {
      const a = args as z.infer<(typeof TOOL_ARGS)['search_knowledge']>;
      const r = await searchKnowledge(tenant, a.query, { k: a.k ?? 5, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      const ids = ctx.cite(r.passages);
      return { passages: r.passages.map((p, i) => passageView(p, ids[i]!)) };
    }
    case 'read_document': {
      const a = args as z.infer<(typeof TOOL_ARGS)['read_document']>;
      const doc = getDocument(tenant, a.documentId);
      const rows = tenant.db
        .prepare(
          `SELECT c.id AS chunkId, c.document_id AS documentId, c.ordinal, c.text, c.char_start AS charStart, c.char_end AS charEnd, c.page, c.heading_path AS headingPath
             FROM chunks c WHERE c.document_id = ? AND c.ordinal >= ? ORDER BY c.ordinal LIMIT ?`,
        )
        .all(doc.id, a.fromChunk ?? 0, a.maxChunks ?? 5) as (Omit<Passage, 'title' | 'sourcePath' | 'headingPath' | 'score' | 'bm25Rank' | 'vectorRank'> & {
        headingPath: string | null;
      })[];
      const passages: Passage[] = rows.map((r) => ({
        ...r,
        title: doc.title,
        sourcePath: doc.sourcePath,
        headingPath: r.headingPath ? (JSON.parse(r.headingPath) as string[]) : [],
        score: 0,
        bm25Rank: null,
        vectorRank: null,
      }));
      const ids = ctx.cite(passages);
      return {
        documentId: doc.id,
        title: doc.title,
        chunkCount: doc.chunkCount,
        passages: passages.map((p, i) => ({ ...passageView(p, ids[i]!), chunk: p.ordinal })),
      };
    }
    case 'list_documents': {
      const a = args as z.infer<(typeof TOOL_ARGS)['list_documents']>;
      const docs = listDocuments(tenant, { limit: a.limit ?? 20, offset: a.offset ?? 0, ...(a.filter ? { filter: a.filter } : {}) });
      return { documents: docs.map((d) => ({ documentId: d.id, title: d.title, format: d.format, chunkCount: d.chunkCount })) };
    }
    case 'save_note': {
      const a = args as z.infer<(typeof TOOL_ARGS)['save_note']>;
      const allowed = ctx.confirm ? await ctx.confirm({ tool: 'save_note', title: a.title, body: a.body }) : false;
      if (!allowed) throw new DeclinedError();
      const note = addNote(tenant, a);
      recordLedger(tenant, 'note.save', { noteId: note.id, bodySha256: sha256(note.body), by: 'agent' });
      return { saved: true, noteId: note.id };
    }
  }
}

class DeclinedError extends Error {}

/** Validates and runs one tool call against the open tenant; anything wrong is refused, never thrown. */
export async function runToolCall(ctx: ToolContext, call: ToolCallRequest): Promise<ToolOutcome> {
  if (isConnectorToolName(call.name)) {
    return runConnectorTool({ tenant: ctx.tenant, ...(ctx.confirm ? { confirm: ctx.confirm } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) }, call);
  }
  if (!isToolName(call.name)) return refuseToolCall(ctx.tenant, call, 'unknown_tool', `there is no tool of that name; the tools are ${TOOL_NAMES.join(', ')}`);
  const named = { ...call, name: call.name };
  const parsed = parseArguments(named);
  if (!parsed.ok) return refuseToolCall(ctx.tenant, call, parsed.reason, parsed.message);
  try {
    const result = await execute(ctx, named.name, parsed.args);
    recordLedger(ctx.tenant, 'tool.call', { tool: named.name, argumentsSha256: sha256(call.arguments) });
    return { ok: true, content: JSON.stringify(result) };
  } catch (err) {
    if (err instanceof DeclinedError) return refuseToolCall(ctx.tenant, call, 'declined', 'the user declined this write');
    if (isBulkheadError(err, 'DOCUMENT_NOT_FOUND')) return refuseToolCall(ctx.tenant, call, 'not_found', 'no document with that id in this workspace');
    if (isBulkheadError(err, 'INPUT_INVALID')) return refuseToolCall(ctx.tenant, call, 'invalid_arguments', err.message);
    throw err;
  }
}
