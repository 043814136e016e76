// Every call between the UI and the main process, once: the main handlers, the preload bridge,
// the web host and the renderer's client are all typed and checked from these schemas.
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import type { Result } from './transport.js';
import { DisplayName, Passphrase, TenantId } from './tenant.js';
import { connectorCalls } from './connectors.js';
import { MAX_SEARCH_CHARS } from './search-limits.js';
import { LibraryModelName, modelCalls } from './models.js';

export const ApiError = z.object({ code: z.enum(ERROR_CODES), message: z.string() });
export type ApiError = z.infer<typeof ApiError>;

export type { Result } from './transport.js';

const NoInput = z.strictObject({});

export const TenantColour = z.string().regex(/^#[0-9a-f]{6}$/);

export const TenantItem = z.object({ id: TenantId, name: z.string(), colour: TenantColour, createdAt: z.string() });
export type TenantItem = z.infer<typeof TenantItem>;

export const OpenTenant = TenantItem.extend({ documents: z.number().int(), chunks: z.number().int() });
export type OpenTenant = z.infer<typeof OpenTenant>;

export const VaultStatus = z.object({
  state: z.enum(['uninitialized', 'locked', 'unlocked']),
  /** The tenant open in this window; null when none is. */
  tenant: OpenTenant.nullable(),
  /** Presentation mode: only this tenant exists for the UI until the passphrase is entered. */
  presentation: z.boolean(),
  /** "Unlock with my login" through the OS keychain (desktop app only, opt-in). */
  keychain: z.object({ supported: z.boolean(), enabled: z.boolean(), reason: z.string().nullable() }),
  /** The UI locks the vault after this long without input. */
  idleLockSeconds: z.number().int(),
});
export type VaultStatus = z.infer<typeof VaultStatus>;

export const DocumentItem = z.object({
  id: z.number().int(),
  title: z.string(),
  sourcePath: z.string(),
  format: z.string(),
  bytes: z.number().int(),
  chunkCount: z.number().int(),
  tags: z.array(z.string()),
  ingestedAt: z.string(),
});
export type DocumentItem = z.infer<typeof DocumentItem>;

export const DocumentPage = z.object({ total: z.number().int(), offset: z.number().int(), items: z.array(DocumentItem) });
export type DocumentPage = z.infer<typeof DocumentPage>;

export const Passage = z.object({
  chunkId: z.number().int(),
  documentId: z.number().int(),
  title: z.string(),
  sourcePath: z.string(),
  page: z.number().int().nullable(),
  headingPath: z.array(z.string()),
  charStart: z.number().int(),
  charEnd: z.number().int(),
  text: z.string(),
});
export type Passage = z.infer<typeof Passage>;

/** A tag on a document: a short label, no control or direction-override characters. */
export const Tag = z
  .string()
  .trim()
  .min(1, 'a tag needs some text')
  .max(64, 'a tag can be at most 64 characters')
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'a tag cannot contain control or formatting characters');
const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD');
/** Narrows a search or the library: kinds of document (format), tags (all of them), date added (inclusive). */
export const SearchFilters = z.strictObject({
  formats: z.array(z.string().trim().min(1).max(16)).max(20).default([]),
  tags: z.array(Tag).max(20).default([]),
  from: IsoDay.nullable().default(null),
  to: IsoDay.nullable().default(null),
});
export type SearchFilters = z.infer<typeof SearchFilters>;

export const SearchHit = Passage.extend({
  score: z.number(),
  /** [start, end) offsets in `text` of the words that matched the query. */
  highlights: z.array(z.tuple([z.number().int(), z.number().int()])).optional(),
  format: z.string().optional(),
});
export const SearchResult = z.object({
  query: z.string(),
  mode: z.enum(['hybrid', 'full-text']),
  note: z.string().optional(),
  /** A long query's most telling terms, which the full-text side searched instead of its every word. */
  searchedAs: z.string().optional(),
  /** The library reranking model that re-ordered the candidates, when the client chose one. */
  reranker: z.string().optional(),
  passages: z.array(SearchHit),
});
export type SearchResult = z.infer<typeof SearchResult>;

export const FileResult = z.object({
  name: z.string(),
  status: z.enum(['added', 'unchanged', 'replaced', 'failed']),
  documentId: z.number().int().optional(),
  chunks: z.number().int().optional(),
  code: z.string().optional(),
  reason: z.string().optional(),
});
export type FileResult = z.infer<typeof FileResult>;

export const IngestSummary = z.object({
  added: z.number().int(),
  unchanged: z.number().int(),
  replaced: z.number().int(),
  failed: z.number().int(),
  chunks: z.number().int(),
  cancelled: z.boolean(),
  files: z.array(FileResult),
});
export type IngestSummary = z.infer<typeof IngestSummary>;

/** Per-file progress of one ingest run; `uploadId` ties the event to the file the user chose. */
export const IngestEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file-start'), uploadId: z.string(), name: z.string() }),
  z.object({ type: z.literal('file-progress'), uploadId: z.string(), chunksDone: z.number().int(), chunksTotal: z.number().int() }),
  z.object({ type: z.literal('file-done'), uploadId: z.string(), result: FileResult }),
]);
export type IngestEvent = z.infer<typeof IngestEvent>;

export const UploadId = z.string().regex(/^u_[0-9a-f]{32}$/, 'not an upload id');
export const Upload = z.object({ uploadId: UploadId, name: z.string(), bytes: z.number().int() });
export type Upload = z.infer<typeof Upload>;

/** A whole document as its passages in order (overlaps removed), for reading a passage in place. */
export const DocumentView = z.object({
  document: DocumentItem,
  segments: z.array(z.object({ chunkId: z.number().int(), text: z.string(), page: z.number().int().nullable(), headingPath: z.array(z.string()) })),
  /** True when the document was longer than the console shows at once. */
  truncated: z.boolean(),
});
export type DocumentView = z.infer<typeof DocumentView>;

export const Facets = z.object({
  tags: z.array(z.object({ name: z.string(), count: z.number().int() })),
  formats: z.array(z.object({ name: z.string(), count: z.number().int() })),
});
export type Facets = z.infer<typeof Facets>;

/** A tenant's watched folders and the background job keeping them in sync. */
export const WatchStatus = z.object({
  folders: z.array(z.object({ path: z.string(), addedAt: z.string(), present: z.boolean() })),
  running: z.boolean(),
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  lastRun: z.object({ at: z.string(), added: z.number().int(), replaced: z.number().int(), unchanged: z.number().int(), failed: z.number().int() }).nullable(),
  error: z.string().nullable(),
  /** Documents whose file left a watched folder: deleted only after watch.confirmRemoved. */
  removed: z.array(z.object({ documentId: z.number().int(), title: z.string(), sourcePath: z.string() })),
});
export type WatchStatus = z.infer<typeof WatchStatus>;
const FolderPath = z.strictObject({ path: z.string().trim().min(1, 'give a folder path').max(4096) });

/** A source an answer cites as [S1], [S2]…: opening it shows the passage. */
export const Citation = z.object({
  id: z.string().regex(/^S\d{1,4}$/),
  chunkId: z.number().int(),
  documentId: z.number().int(),
  title: z.string(),
  page: z.number().int().nullable(),
  excerpt: z.string(),
});
export type Citation = z.infer<typeof Citation>;

export const ChatEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('token'), text: z.string() }),
  /** The text streamed so far is void (the model failed mid-answer); a retrieval-only answer follows. */
  z.object({ type: z.literal('discard') }),
  /** The model wants to write (save a note): nothing is written unless the user allows it with chat.confirm. */
  z.object({ type: z.literal('confirm'), confirmId: z.string(), tool: z.string(), title: z.string(), body: z.string() }),
]);
export type ChatEvent = z.infer<typeof ChatEvent>;

export const ChatAnswer = z.object({
  conversationId: z.number().int(),
  text: z.string(),
  /** 'retrieval-only' when no model answered: the best passages, labelled as such. */
  mode: z.enum(['generated', 'retrieval-only']),
  citations: z.array(Citation),
  model: z.object({ name: z.string(), host: z.string() }).nullable(),
  /** Why a configured model was not used, in words for the user. */
  modelError: z.string().nullable(),
});
export type ChatAnswer = z.infer<typeof ChatAnswer>;

export const EmbedderView = z.discriminatedUnion('kind', [
  /** The offline embedder; `tunedOnChunks` once it has learnt this client's vocabulary from that many passages. */
  z.object({ kind: z.literal('hash'), tunedOnChunks: z.number().int().optional() }),
  z.object({ kind: z.literal('ollama'), baseUrl: z.string(), model: z.string(), dimension: z.number().int().optional() }),
  z.object({ kind: z.literal('openai'), baseUrl: z.string(), model: z.string(), dimension: z.number().int().optional(), hasApiKey: z.boolean() }),
  z.object({ kind: z.literal('builtin'), model: z.string(), dimension: z.number().int() }),
]);
export type EmbedderView = z.infer<typeof EmbedderView>;

const HttpUrl = z.url({ protocol: /^https?$/, error: 'an endpoint is an http:// or https:// address' }).max(2000);

export const EmbedderInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('hash') }),
  z.strictObject({ kind: z.literal('ollama'), baseUrl: HttpUrl, model: z.string().trim().min(1).max(200) }),
  z.strictObject({ kind: z.literal('openai'), baseUrl: HttpUrl, model: z.string().trim().min(1).max(200), apiKey: z.string().max(500).optional() }),
  /** A GGUF embedding model of the library, run in this process. */
  z.strictObject({ kind: z.literal('builtin'), model: LibraryModelName }),
]);

/** The open client's own chat model (stored in its file, used for it only) and its local-only policy. */
export const ModelSettings = z.object({
  baseUrl: z.string().nullable(),
  name: z.string().nullable(),
  hasApiKey: z.boolean(),
  localOnly: z.boolean(),
  /** The library model the built-in runtime answers with, when the client chose one (then baseUrl is null). */
  builtin: z.string().nullable().default(null),
});
export const ModelInput = z.strictObject({
  baseUrl: HttpUrl,
  name: z.string().trim().min(1).max(200),
  /** Absent keeps the stored key; '' removes it. */
  apiKey: z.string().max(500).optional(),
  localOnly: z.boolean(),
});

/** A stored endpoint the egress sends nothing to until the user confirms it (settings.confirmEndpoints). */
export const HeldEndpointView = z.object({ slot: z.string(), url: z.string(), reason: z.enum(['policy', 'imported']), since: z.string() });
export type HeldEndpointView = z.infer<typeof HeldEndpointView>;

export const Settings = z.object({
  embedder: EmbedderView,
  model: ModelSettings.nullable(),
  held: z.array(HeldEndpointView).default([]),
  /** The library reranking model that re-orders search candidates; null: off. */
  reranker: z.string().nullable().default(null),
});
export type Settings = z.infer<typeof Settings>;

export const AuditRecord = z.object({
  seq: z.number().int(),
  at: z.string(),
  kind: z.string(),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

export const AuditVerification = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), count: z.number().int(), head: z.string().nullable() }),
  z.object({ ok: z.literal(false), count: z.number().int(), firstBadSeq: z.number().int(), reason: z.string() }),
]);
export type AuditVerification = z.infer<typeof AuditVerification>;

export const DeletionReceipt = z.object({ tenantId: z.string(), deletedAt: z.string(), keyDestroyed: z.literal(true) });

const TenantRef = z.strictObject({ tenantId: TenantId });

/** Request/response calls. */
export const calls = {
  'vault.status': { input: NoInput, output: VaultStatus },
  'vault.initialize': { input: z.strictObject({ passphrase: Passphrase, samples: z.boolean().default(false) }), output: VaultStatus },
  'vault.unlock': { input: z.strictObject({ passphrase: z.string().min(1).max(1024) }), output: VaultStatus },
  'vault.lock': { input: NoInput, output: VaultStatus },
  'vault.unlockWithKeychain': { input: NoInput, output: VaultStatus },
  /** The passphrase again, so that someone at an unlocked laptop cannot turn it on. */
  'keychain.enable': { input: z.strictObject({ passphrase: z.string().min(1).max(1024) }), output: VaultStatus },
  'keychain.disable': { input: NoInput, output: VaultStatus },
  'tenants.list': { input: NoInput, output: z.array(TenantItem) },
  'tenants.create': { input: z.strictObject({ name: DisplayName }), output: TenantItem },
  'tenants.rename': { input: z.strictObject({ tenantId: TenantId, name: DisplayName }), output: TenantItem },
  /** The user types the tenant's name to confirm: deleting crypto-shreds it. */
  'tenants.delete': { input: z.strictObject({ tenantId: TenantId, confirmName: z.string().max(200) }), output: DeletionReceipt },
  'tenants.open': { input: TenantRef, output: OpenTenant },
  'tenants.createSamples': { input: NoInput, output: z.array(TenantItem) },
  'documents.list': {
    input: z.strictObject({
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(500).default(100),
      filter: z.string().max(200).default(''),
      tags: z.array(Tag).max(20).default([]),
      formats: z.array(z.string().trim().min(1).max(16)).max(20).default([]),
    }),
    output: DocumentPage,
  },
  'documents.delete': { input: z.strictObject({ documentId: z.number().int().positive() }), output: z.object({ documentId: z.number().int() }) },
  'documents.passage': { input: z.strictObject({ chunkId: z.number().int().positive() }), output: Passage },
  /** Marks a document as the agency's own shared material (verify's cross-tenant control skips it); audited. */
  'documents.setShared': {
    input: z.strictObject({ documentId: z.number().int().positive(), shared: z.boolean() }),
    output: z.object({ documentId: z.number().int(), shared: z.boolean() }),
  },
  'knowledge.search': {
    // Up to a pasted passage or a whole document (search by example, retrieval/by-example.ts).
    input: z.strictObject({
      query: z.string().trim().min(1, 'a search needs some text').max(MAX_SEARCH_CHARS, 'a search can be at most 20,000 characters'),
      k: z.number().int().min(1).max(100).default(10),
      filters: SearchFilters.optional(),
      /** Documents whose passages stay out of the results: "find similar" leaves out the passage's own document. */
      excludeDocumentIds: z.array(z.number().int().positive()).max(100, 'at most 100 documents can be left out of a search').optional(),
    }),
    output: SearchResult,
  },
  /** The whole document around a passage. */
  'documents.open': { input: z.strictObject({ documentId: z.number().int().positive() }), output: DocumentView },
  'documents.setTags': { input: z.strictObject({ documentId: z.number().int().positive(), tags: z.array(Tag).max(32) }), output: DocumentItem },
  'watch.status': { input: NoInput, output: WatchStatus },
  'watch.add': { input: FolderPath, output: WatchStatus },
  'watch.remove': { input: FolderPath, output: WatchStatus },
  'watch.sync': { input: NoInput, output: WatchStatus },
  'watch.confirmRemoved': { input: z.strictObject({ documentIds: z.array(z.number().int().positive()).min(1).max(10_000) }), output: WatchStatus },
  /** The tags and kinds of document in the open tenant, with counts: what the filters offer. */
  'documents.facets': { input: NoInput, output: Facets },
  'uploads.discard': { input: z.strictObject({ uploadIds: z.array(UploadId).max(10_000) }), output: z.object({ discarded: z.number().int() }) },
  'chat.confirm': { input: z.strictObject({ confirmId: z.string().max(64), allow: z.boolean() }), output: z.object({ found: z.boolean() }) },
  'settings.get': { input: NoInput, output: Settings },
  'settings.setEmbedder': { input: z.strictObject({ embedder: EmbedderInput }), output: Settings },
  'settings.setModel': { input: z.strictObject({ model: ModelInput }), output: Settings },
  'settings.testModel': { input: NoInput, output: z.object({ ok: z.boolean(), detail: z.string() }) },
  /** A library chat model as the client's chat model (MODEL_NOT_FOUND, MODEL_WRONG_KIND). */
  'settings.setBuiltinModel': { input: z.strictObject({ model: LibraryModelName }), output: Settings },
  /** A library reranking model for the client's searches, or null to turn reranking off. */
  'settings.setReranker': { input: z.strictObject({ model: LibraryModelName.nullable() }), output: Settings },
  /** Lets the held endpoints (one slot or all) be used again; refused (MODEL_NOT_ALLOWED) while the policy forbids one. */
  'settings.confirmEndpoints': { input: z.strictObject({ slot: z.enum(['embedder', 'chat']).optional() }), output: Settings },
  'presentation.enter': { input: TenantRef, output: VaultStatus },
  'presentation.exit': { input: z.strictObject({ passphrase: z.string().min(1).max(1024) }), output: VaultStatus },
  'audit.list': {
    input: z.strictObject({ afterSeq: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(200) }),
    output: z.array(AuditRecord),
  },
  'audit.verify': { input: NoInput, output: AuditVerification },
  ...connectorCalls,
  ...modelCalls,
} as const;

export const IsolationControl = z.object({
  id: z.string(),
  title: z.string(),
  tried: z.string(),
  attempts: z.number().int(),
  pass: z.boolean(),
  findings: z.array(z.string()),
});
export const IsolationReport = z.object({
  appVersion: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  tenants: z.number().int(),
  controls: z.array(IsolationControl),
  passed: z.boolean(),
  sha256: z.string(),
  /** Where the JSON and HTML copies of the report were written. */
  files: z.object({ json: z.string(), html: z.string() }),
});
export type IsolationReport = z.infer<typeof IsolationReport>;
export const VerifyEvent = z.object({ type: z.literal('progress'), message: z.string() });

/** Calls that report progress (events) before their result; the caller may stop them. */
export const streams = {
  'ingest.run': {
    input: z.strictObject({
      uploadIds: z.array(UploadId).min(1, 'choose at least one file').max(10_000),
      tags: z.array(z.string().trim().min(1).max(64)).max(32).default([]),
    }),
    event: IngestEvent,
    output: IngestSummary,
  },
  'chat.ask': {
    input: z.strictObject({ question: z.string().trim().min(1, 'ask something').max(4000), conversationId: z.number().int().min(1).nullable().default(null) }),
    event: ChatEvent,
    output: ChatAnswer,
  },
  /** The isolation self-test of `bulkhead verify`, over the whole vault. */
  'verify.run': { input: NoInput, event: VerifyEvent, output: IsolationReport },
} as const;

export type Calls = typeof calls;
export type Streams = typeof streams;
export type CallName = keyof Calls;
export type StreamName = keyof Streams;
export type CallInput<K extends CallName> = z.input<Calls[K]['input']>;
export type CallOutput<K extends CallName> = z.output<Calls[K]['output']>;
export type StreamInput<K extends StreamName> = z.input<Streams[K]['input']>;
export type StreamEvent<K extends StreamName> = z.output<Streams[K]['event']>;
export type StreamOutput<K extends StreamName> = z.output<Streams[K]['output']>;

export const CALL_NAMES = Object.keys(calls) as CallName[];
export const STREAM_NAMES = Object.keys(streams) as StreamName[];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(calls, name);
}
export function isStreamName(name: unknown): name is StreamName {
  return typeof name === 'string' && Object.hasOwn(streams, name);
}

/** The largest file the console accepts in one upload (the ingest pipeline's own limit). */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export { TRANSPORT, type Bridge } from './transport.js';
