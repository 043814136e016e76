import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToolCall, TOOL_SPECS, type ToolContext } from '../../../src-main/agent/tools.js';
import type { Passage } from '../../../src-main/retrieval/knowledge.js';
import { agentFixture, type AgentFixture } from '../../helpers/agent.js';

let fx: AgentFixture;
beforeAll(async () => {
  fx = await agentFixture({
    Tools: [
      { documentKey: 'plan', ordinal: 0, text: 'Phase one: discovery workshops in May.' },
      { documentKey: 'plan', ordinal: 1, text: 'Phase two: the pilot in June.' },
      { documentKey: 'people', ordinal: 0, text: 'Astrid is the sponsor.' },
    ],
  });
});
afterAll(() => fx.dispose());

function ctx(): ToolContext & { cited: number[] } {
  const cited: number[] = [];
  return {
    tenant: fx.open('Tools'),
    cited,
    cite: (ps: readonly Passage[]) => ps.map((p) => (cited.push(p.chunkId), `S${cited.length}`)),
  };
}

describe('agent tools', () => {
  it('offer the model strict schemas: no extra keys, no tenant, path or SQL parameter', () => {
    for (const spec of TOOL_SPECS) {
      expect(spec.type).toBe('function');
      const params = (spec as unknown as { function: { parameters: { additionalProperties: boolean; properties: Record<string, unknown> } } }).function
        .parameters;
      expect(params.additionalProperties).toBe(false);
      for (const key of Object.keys(params.properties)) expect(key).not.toMatch(/tenant|path|sql|file|url|dir/i);
    }
  });

  it('read a document in order, list documents, search, each result citable', async () => {
    const c = ctx();
    const list = JSON.parse((await runToolCall(c, { id: '1', name: 'list_documents', arguments: '{}' })).content);
    expect(list.documents.map((d: { title: string }) => d.title)).toEqual(['people', 'plan']);
    const plan = list.documents.find((d: { title: string }) => d.title === 'plan').documentId;
    const read = await runToolCall(c, { id: '2', name: 'read_document', arguments: JSON.stringify({ documentId: plan, fromChunk: 1 }) });
    expect(read.ok).toBe(true);
    expect(JSON.parse(read.content)).toMatchObject({
      title: 'plan',
      chunkCount: 2,
      passages: [{ citationId: 'S1', chunk: 1, text: 'Phase two: the pilot in June.' }],
    });
    const found = JSON.parse((await runToolCall(c, { id: '3', name: 'search_knowledge', arguments: JSON.stringify({ query: 'sponsor', k: 1 }) })).content);
    expect(found.passages).toEqual([expect.objectContaining({ citationId: 'S2', title: 'people' })]);
    expect(c.cited).toHaveLength(2);
  });

  it('refuse what is wrong with a reason the model can read', async () => {
    const c = ctx();
    const cases: [string, string, string][] = [
      ['drop_table', '{}', 'unknown_tool'],
      ['read_document', '{"documentId": 424242}', 'not_found'],
      ['read_document', '{"documentId": 1, "tenantId": "t_x"}', 'invalid_arguments'],
      ['search_knowledge', '{"query": ""}', 'invalid_arguments'],
      ['search_knowledge', 'not json', 'invalid_json'],
      ['list_documents', JSON.stringify({ filter: 'x'.repeat(9000) }), 'oversized_arguments'],
    ];
    for (const [name, args, reason] of cases) {
      const out = await runToolCall(c, { id: 'x', name, arguments: args });
      expect(out, `${name} ${args.slice(0, 40)}`).toMatchObject({ ok: false, reason });
      expect(JSON.parse(out.content)).toMatchObject({ error: reason, message: expect.any(String) });
    }
  });
});
