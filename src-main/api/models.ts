// The console's calls for the model library and the built-in runtime: list the library, read the
// runtime's load progress and the open tenant's tokens per second, and store the open tenant's
// choice of a built-in chat model and of a reranker.
import type { ModelLibraryView } from '../../src-shared/models.js';
import { setTenantBuiltin } from '../agent/tenant-builtin.js';
import { tenantModelFor } from '../agent/tenant-model.js';
import { modelLibrary, modelRuntime } from '../models/shared.js';
import { setReranker } from '../retrieval/reranker-setting.js';
import { guardTenantErrors, type TenantHandle } from '../vault/handle.js';
import type { CallHandlers } from './handlers.js';
import type { ConsoleSession } from './session.js';

type ModelCallName = 'models.list' | 'models.status';

/** The library as the console shows it: names and header facts, never the folder's path. */
export async function libraryView(): Promise<ModelLibraryView> {
  const { models, broken } = await modelLibrary().list();
  return {
    models: models.map((m) => ({
      name: m.name,
      kind: m.kind,
      architecture: m.architecture,
      quantisation: m.quantisation,
      contextLength: m.contextLength ?? null,
      sizeBytes: m.sizeBytes,
    })),
    // The library's folder stays out of the view: a message names the file by its library name.
    broken: broken.map((b) => ({ name: b.name, code: b.error.code, message: b.error.message.replaceAll(b.path, b.name) })),
  };
}

export const modelHandlers: Pick<CallHandlers, ModelCallName> = {
  'models.list': () => libraryView(),
  'models.status': (s) => {
    const { handle } = s.scope();
    return guardTenantErrors(handle, () => modelRuntime().status(handle));
  },
};

/** The open tenant's chat model becomes a library chat model (after its one-time migration). */
export async function saveBuiltinModel(s: ConsoleSession, h: TenantHandle, model: string): Promise<void> {
  tenantModelFor(s.vault, h);
  await setTenantBuiltin(h, { model });
}

export async function saveReranker(h: TenantHandle, model: string | null): Promise<void> {
  await setReranker(h, model);
}
