import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getLlama, LlamaChatSession, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyModelBytes, writeTinyModel } from '../../helpers/gguf-writer.js';

// The fixture the rest of the runtime's tests stand on: a random-weight GGUF that llama.cpp loads.
describe('the tiny GGUF fixture', () => {
  let dir: string;
  let llama: Llama;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-gguf-'));
    llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  });
  afterAll(async () => {
    await llama.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic for one seed and differs for another', () => {
    expect(tinyModelBytes({ seed: 5 }).equals(tinyModelBytes({ seed: 5 }))).toBe(true);
    expect(tinyModelBytes({ seed: 5 }).equals(tinyModelBytes({ seed: 6 }))).toBe(false);
  });

  it('a chat model loads, carries its header, and streams generated text', async () => {
    const file = writeTinyModel(path.join(dir, 'chat.gguf'), { kind: 'chat' });
    const info = await readGgufFileInfo(file);
    expect(info.metadata.general.architecture).toBe('llama');
    expect(info.metadata.tokenizer.ggml.tokens.length).toBeGreaterThan(300);
    const model = await llama.loadModel({ modelPath: file });
    const context = await model.createContext({ contextSize: 512 });
    const session = new LlamaChatSession({ contextSequence: context.getSequence() });
    const chunks: string[] = [];
    const answer = await session.prompt('hello the client', { maxTokens: 12, onTextChunk: (t) => chunks.push(t) });
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.join('')).toBe(answer);
    await context.dispose();
    await model.dispose();
  });

  it('an embedding model gives one vector of the hidden size per text, different for different texts', async () => {
    const file = writeTinyModel(path.join(dir, 'embed.gguf'), { kind: 'embedding', seed: 2 });
    const model = await llama.loadModel({ modelPath: file });
    const context = await model.createEmbeddingContext({ contextSize: 256 });
    const a = await context.getEmbeddingFor('the client budget');
    const b = await context.getEmbeddingFor('a meeting note');
    expect(a.vector.length).toBe(64);
    expect(a.vector).not.toEqual(b.vector);
    await context.dispose();
    await model.dispose();
  });

  it('a reranking model scores each document against the query', async () => {
    const file = writeTinyModel(path.join(dir, 'rank.gguf'), { kind: 'reranking' });
    const model = await llama.loadModel({ modelPath: file });
    expect(model.fileInsights.supportsRanking).toBe(true);
    const context = await model.createRankingContext({ contextSize: 256 });
    const scores = await context.rankAll('hello', ['the client', 'world budget', 'hello']);
    expect(scores).toHaveLength(3);
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(0);
    expect(new Set(scores).size).toBe(3);
    await context.dispose();
    await model.dispose();
  });
});
