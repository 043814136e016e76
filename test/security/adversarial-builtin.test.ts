// The adversarial suite, run once with the built-in provider: the same five tenants with canaries
// and hostile documents, the same questions in every tenant in turn, answered by a tiny
// random-weight GGUF model in this process. A random model obeys no injection, but under the tool
// grammar it calls tools with arguments it makes up, and here the model's own state is inspectable:
// the tokens in its KV cache are read back as text after every answer. What must hold: no canary,
// name or id of another tenant in what the model holds (its sequence), in any answer or citation;
// the previous tenant's contexts are gone before the next tenant's first token, which starts on an
// empty sequence; nothing of any tenant in plain text under the data folder.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../src-main/agent/agent.js';
import { builtinModelConfig, type BuiltinChat } from '../../src-main/agent/builtin-provider.js';
import { ModelLibrary } from '../../src-main/models/library.js';
import { LocalRuntime } from '../../src-main/models/runtime.js';
import type { TenantHandle } from '../../src-main/vault/handle.js';
import { canary, docsOf, KEYS, names, plainTextFiles, QUESTIONS, type Key } from '../helpers/adversarial.js';
import { agentFixture, embedder, type AgentFixture } from '../helpers/agent.js';
import { writeTinyModel } from '../helpers/gguf-writer.js';

const MODEL = 'adversarial-chat.gguf';

let fx: AgentFixture;
let runtime: LocalRuntime;

beforeAll(async () => {
  fx = await agentFixture(Object.fromEntries(KEYS.map((k, i) => [names[k], docsOf(k, i)])));
  const library = new ModelLibrary(path.join(fx.dir, 'models'));
  library.ensureDir();
  writeTinyModel(path.join(library.dir, MODEL), { kind: 'chat', contextLength: 4096 });
  runtime = new LocalRuntime(library, { gpu: false, contextSize: 4096 });
});
afterAll(async () => {
  await runtime?.dispose();
  fx?.dispose();
});

const foreign = (k: Key): string[] => KEYS.filter((o) => o !== k).flatMap((o) => [canary[o], names[o], fx.ids[names[o]]!]);

describe('the adversarial suite with the built-in provider', () => {
  it("no tenant's canary, name or id reaches another tenant's model state, answers or citations; contexts die with their tenant", async () => {
    const { model: weights } = await runtime.loadModel(MODEL);
    const detokenize = (tokens: Parameters<typeof weights.detokenize>[0]): string => weights.detokenize(tokens);
    const ROUNDS = 2;
    let asks = 0;
    let ownCanaryInState = 0;
    let toolSteps = 0;
    let previous: TenantHandle | null = null;
    for (let round = 0; round < ROUNDS; round++) {
      for (const k of KEYS) {
        const disposedBefore = runtime.disposedContexts;
        const t = fx.open(names[k]);
        if (previous) expect(previous.isOpen).toBe(false);
        let first = true;
        for (const question of QUESTIONS) {
          const model = await builtinModelConfig(runtime, t, MODEL, { maxTokens: 24, temperature: 0.8, seed: asks + 1 });
          const binding = model.builtin as BuiltinChat;
          // The turn stats of this answer's first model call (later calls, after a tool, continue its sequence).
          let firstTokensBefore: number | null = null;
          const streamChat = binding.streamChat.bind(binding);
          binding.streamChat = async (...args) => {
            const turn = await streamChat(...args);
            firstTokensBefore ??= binding.lastTurn?.tokensBefore ?? null;
            return turn;
          };
          const r = await askAgent(t, { question }, { model, embedder, confirm: async () => false });
          asks++;
          toolSteps += r.toolSteps;
          expect(r.mode).toBe('generated');
          if (first) {
            // The switch disposed every context of the previous tenant before this one's first token,
            // which started on an empty sequence.
            expect(firstTokensBefore, `first sequence of ${k} starts empty`).toBe(0);
            if (previous) {
              expect(runtime.contextsOf(previous)).toBe(0);
              expect(runtime.disposedContexts).toBeGreaterThan(disposedBefore);
            }
          }
          first = false;

          const answerSide = JSON.stringify({ answer: r.answer, citations: r.citations });
          expect(
            foreign(k).filter((n) => answerSide.includes(n)),
            `answer in ${k}`,
          ).toEqual([]);
          for (const c of r.citations) expect(c.text.includes(canary[k]) || c.text.startsWith('Budget memo'), c.text).toBe(true);

          // What the model holds after answering: every token of its sequence, read back as text.
          const state = detokenize(binding.sequence?.contextTokens ?? []);
          expect(
            foreign(k).filter((n) => state.includes(n)),
            `model state in ${k}`,
          ).toEqual([]);
          // The model is never told which tenant this is.
          expect(state.includes(names[k])).toBe(false);
          if (state.includes(canary[k])) ownCanaryInState++;
        }
        previous = t;
      }
    }
    expect(asks).toBe(ROUNDS * KEYS.length * QUESTIONS.length);
    // The check can see a leak: the tenant's own passages (with its canary) were in the model's state.
    expect(ownCanaryInState).toBeGreaterThanOrEqual(ROUNDS * KEYS.length);
    // The model's made-up tool calls ran through the tenant-bound tools, and their results went back into its state.
    expect(toolSteps).toBeGreaterThan(0);

    const hits = plainTextFiles(
      fx.dir,
      KEYS.flatMap((k) => [canary[k], names[k]]),
    );
    expect(hits).toEqual([]);
  });
});
