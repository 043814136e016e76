// The contract's view of the model library and the built-in runtime: what the console's Settings
// shows (the library, load progress, tokens per second). Models are not tenant data; the last
// answer's figures are the open tenant's own.
import { z } from 'zod';

export const ModelKindView = z.enum(['chat', 'embedding', 'reranking']);

export const LibraryModelView = z.object({
  name: z.string(),
  kind: ModelKindView,
  architecture: z.string(),
  quantisation: z.string(),
  contextLength: z.number().int().nullable(),
  sizeBytes: z.number().int(),
});
export type LibraryModelView = z.infer<typeof LibraryModelView>;

export const ModelLibraryView = z.object({
  models: z.array(LibraryModelView),
  /** Files in the library whose header cannot be used: shown, never loaded. */
  broken: z.array(z.object({ name: z.string(), code: z.string(), message: z.string() })),
});
export type ModelLibraryView = z.infer<typeof ModelLibraryView>;

export const RuntimeStatusView = z.object({
  backend: z.string().nullable(),
  loading: z.array(z.object({ model: z.string(), progress: z.number() })),
  loaded: z.array(z.object({ model: z.string(), loadMs: z.number() })),
  queue: z.number().int(),
  contexts: z.number().int(),
  lastTurn: z.object({ model: z.string(), tokens: z.number().int(), tokensPerS: z.number(), firstTokenMs: z.number().nullable(), at: z.string() }).nullable(),
});
export type RuntimeStatusView = z.infer<typeof RuntimeStatusView>;

/** A library model's name as the library stores it. */
export const LibraryModelName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.gguf$/, "a model name is a file name of the library: letters, digits, '.', '_' or '-', ending in .gguf");

export const modelCalls = {
  'models.list': { input: z.strictObject({}), output: ModelLibraryView },
  /** Load progress of weights and the open tenant's last built-in answer (tokens per second). */
  'models.status': { input: z.strictObject({}), output: RuntimeStatusView },
} as const;
