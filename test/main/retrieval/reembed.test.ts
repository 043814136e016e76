import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { countDocuments } from '../../../src-main/ingest/documents.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { createEmbedder } from '../../../src-main/embed/index.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { readEmbedderConfig, type EmbedderConfig } from '../../../src-main/embed/settings.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { reembedTenant, type ReembedProgress } from '../../../src-main/retrieval/reembed.js';
import { activeVectorIndex, generationTables } from '../../../src-main/index/vectors.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import { sendJson, startServer, type TestServer } from '../../helpers/embedding-server.js';
import { vectorRows } from '../../helpers/retrieval.js';
import { freshVault, tempDir } from '../../helpers/vault.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** An OpenAI-compatible embeddings server whose vectors carry meaning (a 32-dimension hash). */
async function embeddingServer(): Promise<TestServer> {
  const model = new HashedEmbedder({ dimension: 32 });
  const server = await startServer(async (req, res) => {
    const input = (req.body as { input: string[] }).input;
    const vectors = await model.embed(input);
    sendJson(res, 200, { data: vectors.map((v, index) => ({ embedding: Array.from(v), index })) });
  });
  servers.push(server);
  return server;
}

async function tenantWithDocs(): Promise<TenantHandle> {
  const vault = await freshVault();
  const t = vault.openSession().open(vault.createTenant('Acme').id);
  const dir = tempDir();
  for (let i = 0; i < 30; i++)
    fs.writeFileSync(
      path.join(dir, `note-${i}.md`),
      `# Note ${i}\n\n${i === 7 ? 'The wombat budget is approved.' : `Routine entry number ${i} about invoices.`}\n`,
    );
  await ingestPaths(t, [dir], { embedder: new HashedEmbedder() });
  return t;
}

function tableExists(t: TenantHandle, name: string): boolean {
  return t.db.prepare('SELECT count(*) FROM sqlite_master WHERE name = ?').pluck().get(name) === 1;
}

describe('changing the embedder', () => {
  it('re-embeds every chunk with progress, then switches index and setting together', async () => {
    const t = await tenantWithDocs();
    const old = activeVectorIndex(t)!;
    const server = await embeddingServer();
    const config: EmbedderConfig = { kind: 'openai', baseUrl: server.baseUrl, model: 'tiny-embed', dimension: 32 };
    const progress: ReembedProgress[] = [];
    const next = await reembedTenant(t, config, createEmbedder(t, config), { onProgress: (p) => progress.push(p) });

    expect(next).toEqual({ generation: old.generation + 1, embedderId: 'openai:tiny-embed', dimension: 32 });
    expect(activeVectorIndex(t)).toEqual(next);
    expect(readEmbedderConfig(t)).toEqual(config);
    expect(progress.at(-1)).toEqual({ chunksDone: 30, chunksTotal: 30 });
    expect(generationTables(old).some((table) => tableExists(t, table))).toBe(false);
    expect(vectorRows(t, next)).toBe(countDocuments(t).chunks);

    const before = server.requests.length;
    const result = await searchKnowledge(t, 'wombat budget');
    expect(result.mode).toBe('hybrid');
    expect(result.passages[0]!.text).toContain('wombat');
    expect(server.requests.length).toBeGreaterThan(before); // the query was embedded by the new model
  });

  it('a cancel or a failing endpoint leaves the previous vectors active and whole', async () => {
    const t = await tenantWithDocs();
    const old = activeVectorIndex(t)!;
    const server = await embeddingServer();
    const config: EmbedderConfig = { kind: 'openai', baseUrl: server.baseUrl, model: 'tiny-embed', dimension: 32 };

    const controller = new AbortController();
    await expect(
      reembedTenant(t, config, createEmbedder(t, { ...config }), { signal: controller.signal, onProgress: () => controller.abort() }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(activeVectorIndex(t)).toEqual(old);
    expect(readEmbedderConfig(t)).toEqual({ kind: 'hash' });
    expect(generationTables({ generation: old.generation + 1 }).some((table) => tableExists(t, table))).toBe(false);

    server.behave((_req, res) => sendJson(res, 500, { error: 'model crashed' }));
    await expect(reembedTenant(t, config, createEmbedder(t, config))).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    expect(activeVectorIndex(t)).toEqual(old);
    expect(generationTables({ generation: old.generation + 1 }).some((table) => tableExists(t, table))).toBe(false);
    expect((await searchKnowledge(t, 'wombat budget')).mode).toBe('hybrid');
  });

  it('with the embedder unreachable, search answers from full text and says so', async () => {
    const t = await tenantWithDocs();
    const server = await embeddingServer();
    const config: EmbedderConfig = { kind: 'openai', baseUrl: server.baseUrl, model: 'tiny-embed', dimension: 32 };
    await reembedTenant(t, config, createEmbedder(t, config));
    await server.close();
    const result = await searchKnowledge(t, 'wombat budget');
    expect(result.mode).toBe('full-text');
    expect(result.note).toMatch(/unavailable/);
    expect(result.passages[0]!.text).toContain('wombat');
  });
});
