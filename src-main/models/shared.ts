// The one runtime of this process: a LocalRuntime over the model library of the open vault's data
// folder (or the folder the user named). Models are not tenant data, so one runtime serves every
// tenant in turn; what it holds for a tenant (contexts, sequences, the last answer's figures)
// belongs to that tenant's handle and goes when the handle closes (see runtime.ts).
import { BulkheadError } from '../../src-shared/errors.js';
import type { ModelKind } from './gguf-check.js';
import { ModelLibrary, type LibraryModel } from './library.js';
import { LocalRuntime, type RuntimeOptions } from './runtime.js';

let libraryDir: string | null = null;
let options: RuntimeOptions = {};
let current: { dir: string; runtime: LocalRuntime } | null = null;

/**
 * Names the library the runtime loads from (the console and the CLI call it once the data folder
 * is known). A different folder than before disposes the old runtime first.
 */
export function useModelLibrary(dir: string, opts: RuntimeOptions = {}): void {
  libraryDir = dir;
  options = opts;
  if (current && current.dir !== dir) {
    const old = current.runtime;
    current = null;
    void old.dispose();
  }
}

/** The library the tenants choose from; MODEL_NOT_CONFIGURED before any was named. */
export function modelLibrary(): ModelLibrary {
  return modelRuntime().library;
}

/** The process's runtime, created on first use (loading nothing until a model is asked for). */
export function modelRuntime(): LocalRuntime {
  if (!libraryDir) throw new BulkheadError('MODEL_NOT_CONFIGURED', 'no model library is set up in this process');
  if (!current) current = { dir: libraryDir, runtime: new LocalRuntime(new ModelLibrary(libraryDir), options) };
  return current.runtime;
}

const KIND_WORDS: Record<ModelKind, string> = { chat: 'a chat model', embedding: 'an embedding model', reranking: 'a reranking model' };

/**
 * The library model `name`, refused unless it is of `kind`: MODEL_NOT_FOUND when the library has
 * no such file, MODEL_INVALID when its header is unusable, MODEL_WRONG_KIND for another kind.
 */
export async function libraryModelOfKind(name: string, kind: ModelKind): Promise<LibraryModel> {
  const m = await modelLibrary().get(name);
  if (m.kind !== kind) {
    throw new BulkheadError('MODEL_WRONG_KIND', `${m.name} is ${KIND_WORDS[m.kind]}, not ${KIND_WORDS[kind]}; see \`bulkhead models list\``);
  }
  return m;
}

/** True once a runtime exists (a command that loaded no model has nothing to dispose). */
export function hasModelRuntime(): boolean {
  return current !== null;
}

/** Disposes the runtime (every context, model and the backend): at exit, and between tests. */
export async function disposeModelRuntime(): Promise<void> {
  const r = current;
  current = null;
  if (r) await r.runtime.dispose();
}
