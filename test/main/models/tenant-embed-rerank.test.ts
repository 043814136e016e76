import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinEmbedderSettings, createEmbedder } from '../../../src-main/embed/index.js';
import { readEmbedderConfig } from '../../../src-main/embed/settings.js';
import { activeVectorIndex } from '../../../src-main/index/vectors.js';
import { ModelLibrary } from '../../../src-main/models/library.js';
import { rerank } from '../../../src-main/models/reranker.js';
import { disposeModelRuntime, modelRuntime, useModelLibrary } from '../../../src-main/models/shared.js';
import { RERANK_POOL, searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { reembedTenant } from '../../../src-main/retrieval/reembed.js';
import { readReranker, setReranker } from '../../../src-main/retrieval/reranker-setting.js';
import { agentFixture, type AgentFixture } from '../../helpers/agent.js';
import { writeTinyModel } from '../../helpers/gguf-writer.js';
import { vectorRows } from '../../helpers/retrieval.js';

const TEXTS = [
  'The client budget for the harbour project is forty thousand.',
  'Meeting notes: the client asked about the budget and the plan.',
  'The project plan has three phases and a budget review.',
  'A letter about the harbour and the bridge.',
  'The budget meeting moved to Tuesday; the client agreed.',
  'Invoice for the project plan, second phase.',
  'The bridge plan needs a new budget from the client.',
  'Minutes of the meeting about the harbour project.',
];

// A tenant's embedder may be a library GGUF embedding model (switched through the re-embed job),
// and a library reranking model may re-order its fused search candidates (off by default).
describe('built-in embedder and reranker, per tenant', () => {
  let fx: AgentFixture;
  let lib: ModelLibrary;
  beforeAll(async () => {
    fx = await agentFixture({ Alpha: TEXTS, Beta: TEXTS });
    lib = new ModelLibrary(path.join(fx.dir, 'models'));
    lib.ensureDir();
    writeTinyModel(path.join(lib.dir, 'chat.gguf'), { kind: 'chat' });
    writeTinyModel(path.join(lib.dir, 'embed.gguf'), { kind: 'embedding', seed: 2 });
    writeTinyModel(path.join(lib.dir, 'rank.gguf'), { kind: 'reranking' });
    useModelLibrary(lib.dir, { gpu: false, contextSize: 1024 });
  });
  afterAll(async () => {
    await disposeModelRuntime();
    fx.dispose();
  });

  it('a chat or unknown model is refused as an embedder with a typed error', async () => {
    await expect(builtinEmbedderSettings('chat.gguf')).rejects.toMatchObject({ code: 'MODEL_WRONG_KIND' });
    await expect(builtinEmbedderSettings('nope.gguf')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('re-embeds every chunk with the built-in model, then searches with it (hybrid)', async () => {
    const a = fx.open('Alpha');
    const before = activeVectorIndex(a)!;
    expect(before.embedderId).toBe('hash-v1');
    const config = await builtinEmbedderSettings('embed.gguf');
    expect(config).toMatchObject({ kind: 'builtin', model: 'embed.gguf', dimension: 64 });
    expect(config.sha256).toBe(await ModelLibrary.fileHash(path.join(lib.dir, 'embed.gguf')));
    const progress: number[] = [];
    const index = await reembedTenant(a, config, createEmbedder(a, config), { onProgress: (p) => progress.push(p.chunksDone) });
    expect(index.embedderId).toBe(`builtin:embed.gguf@${config.sha256.slice(0, 12)}`);
    expect(index.dimension).toBe(64);
    expect(progress.at(-1)).toBe(TEXTS.length);
    expect(vectorRows(a, index)).toBe(TEXTS.length);
    expect(readEmbedderConfig(a)).toEqual(config);
    expect(activeVectorIndex(a)).toMatchObject({ generation: before.generation + 1, embedderId: index.embedderId });
    const r = await searchKnowledge(a, 'harbour budget');
    expect(r.mode).toBe('hybrid');
    expect(r.passages.some((p) => p.vectorRank !== null)).toBe(true);
    expect(modelRuntime().contextsOf(a)).toBe(1); // its embedding context
  });

  it('other weights under the same name are not used for the stored vectors: search falls back to full text', async () => {
    // The library file is replaced by other weights, and the app starts again (a new runtime).
    writeTinyModel(path.join(lib.dir, 'embed.gguf'), { kind: 'embedding', seed: 9 });
    await disposeModelRuntime();
    const a = fx.open('Alpha');
    const r = await searchKnowledge(a, 'harbour budget');
    expect(r.mode).toBe('full-text');
    expect(r.note).toContain('not the one');
    expect(r.passages.length).toBeGreaterThan(0);
  });

  it('reranking is off by default; a reranking model is required (typed errors otherwise)', async () => {
    const b = fx.open('Beta');
    expect(readReranker(b)).toBeNull();
    expect((await searchKnowledge(b, 'client budget')).reranker).toBeUndefined();
    await expect(setReranker(b, 'chat.gguf')).rejects.toMatchObject({ code: 'MODEL_WRONG_KIND' });
    await expect(setReranker(b, 'embed.gguf')).rejects.toMatchObject({ code: 'MODEL_WRONG_KIND' });
    await expect(setReranker(b, 'none.gguf')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(readReranker(b)).toBeNull();
  });

  it('when on, the reranker re-orders the fused candidates by its scores, and the order changes', async () => {
    const b = fx.open('Beta');
    expect(await setReranker(b, 'rank.gguf')).toBe('rank.gguf');
    const queries = ['client budget', 'harbour project', 'meeting plan', 'the bridge'];
    let changed = 0;
    for (const q of queries) {
      const fused = await searchKnowledge(b, q, { k: RERANK_POOL, reranker: null });
      const on = await searchKnowledge(b, q, { k: 5 });
      expect(on.reranker).toBe('rank.gguf');
      // The same candidates ordered by the reranker's own scores, computed here directly.
      const expected = (await rerank(modelRuntime(), b, 'rank.gguf', q, fused.passages)).items.slice(0, 5);
      expect(on.passages.map((p) => p.chunkId)).toEqual(expected.map((p) => p.chunkId));
      if (
        on.passages.map((p) => p.chunkId).join() !==
        fused.passages
          .slice(0, 5)
          .map((p) => p.chunkId)
          .join()
      )
        changed++;
    }
    expect(changed).toBeGreaterThan(0);
    expect(modelRuntime().contextsOf(b)).toBe(1); // its ranking context, and nothing of Alpha's
    await setReranker(b, null);
    expect(readReranker(b)).toBeNull();
    expect((await searchKnowledge(b, 'client budget')).reranker).toBeUndefined();
  });

  it('a reranker that cannot be loaded leaves the fused order, with a note', async () => {
    const b = fx.open('Beta');
    const r = await searchKnowledge(b, 'client budget', { reranker: 'missing.gguf' });
    expect(r.reranker).toBeUndefined();
    expect(r.note).toContain('reranker is unavailable');
    expect(r.passages.length).toBeGreaterThan(0);
  });
});
