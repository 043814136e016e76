// A library GGUF embedding model as a tenant's embedder: vectors are computed in this process on
// an embedding context that belongs to the open tenant (disposed with it, like every context).
import { EmbedderError, type Embedder } from './embedder.js';
import type { TenantHandle } from '../vault/handle.js';
import type { LocalRuntime } from '../models/runtime.js';

export class BuiltinEmbedder implements Embedder {
  /** 'builtin:<name>@<sha256 prefix>': other weights under the same name are another feature space. */
  readonly id: string;

  private constructor(
    private readonly runtime: LocalRuntime,
    private readonly tenant: TenantHandle,
    readonly modelName: string,
    readonly dimension: number,
    readonly sha256: string,
  ) {
    this.id = `builtin:${modelName}@${sha256.slice(0, 12)}`;
  }

  /** The embedder a tenant's stored choice names; loads nothing until the first embed. */
  static fromSettings(runtime: LocalRuntime, tenant: TenantHandle, s: { model: string; dimension: number; sha256: string }): BuiltinEmbedder {
    return new BuiltinEmbedder(runtime, tenant, s.model, s.dimension, s.sha256);
  }

  /** Loads the model and reads its vector length. */
  static async create(runtime: LocalRuntime, tenant: TenantHandle, modelName: string): Promise<BuiltinEmbedder> {
    const loaded = await runtime.loadModel(modelName);
    return new BuiltinEmbedder(runtime, tenant, modelName, loaded.model.embeddingVectorSize, loaded.sha256);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    let loaded;
    try {
      loaded = await this.runtime.loadModel(this.modelName);
    } catch (err) {
      throw new EmbedderError('UNREACHABLE', `the built-in embedding model ${this.modelName} cannot be loaded: ${(err as Error).message}`, { cause: err });
    }
    if (loaded.sha256 !== this.sha256) {
      // The file under this name changed: its vectors would not be comparable with the stored ones.
      throw new EmbedderError(
        'DIMENSION_MISMATCH',
        `the library file ${this.modelName} is not the one this tenant's vectors were made with; choose the embedder again to re-embed`,
      );
    }
    return this.runtime.run(this.tenant, async (state) => {
      const context = await this.runtime.embeddingContext(state, loaded);
      const out: Float32Array[] = [];
      for (const text of texts) {
        if (signal?.aborted) throw new EmbedderError('ABORTED', 'embedding was cancelled');
        // A passage longer than the context is cut to what fits (tokens, not characters).
        const tokens = loaded.model.tokenize(text).slice(0, Math.min(2048, loaded.model.trainContextSize) - 8);
        const v = (await context.getEmbeddingFor(tokens)).vector;
        if (v.length !== this.dimension) throw new EmbedderError('DIMENSION_MISMATCH', `the built-in model gave ${v.length} numbers, not ${this.dimension}`);
        out.push(normalise(Float32Array.from(v)));
      }
      return out;
    });
  }
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}
