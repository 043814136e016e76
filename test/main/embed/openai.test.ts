import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmbedderError } from '../../../src-main/embed/embedder.js';
import type { EmbedderErrorCode } from '../../../src-main/embed/embedder.js';
import { OpenAiEmbedder } from '../../../src-main/embed/openai.js';
import type { ReceivedRequest, TestServer } from '../../helpers/embedding-server.js';
import { closedPort, fakeVector, sendJson, startServer } from '../../helpers/embedding-server.js';

const DIM = 6;
let server: TestServer;

function data(req: ReceivedRequest, dim = DIM): { embedding: number[]; index: number }[] {
  return (req.body as { input: string[] }).input.map((t, index) => ({ embedding: fakeVector(t, dim), index }));
}
const honest = (req: ReceivedRequest, res: Parameters<typeof sendJson>[0]): void => sendJson(res, 200, { object: 'list', data: data(req) });

beforeAll(async () => {
  server = await startServer(honest);
});
afterAll(async () => {
  await server.close();
});

async function failure(p: Promise<unknown>): Promise<EmbedderErrorCode> {
  try {
    await p;
  } catch (err) {
    if (isEmbedderError(err)) return err.code;
    throw err;
  }
  throw new Error('expected the embedder to fail');
}

const make = (extra: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}): OpenAiEmbedder =>
  new OpenAiEmbedder({ fetch, baseUrl: `${server.baseUrl}/v1`, model: 'text-embedding-3-small', dimension: DIM, ...extra });

describe('OpenAiEmbedder against a real HTTP server', () => {
  it('posts {model, input} to {baseUrl}/embeddings with the bearer key', async () => {
    server.behave(honest);
    server.requests.length = 0;
    const out = await make({ apiKey: 'sk-test-123' }).embed(['alpha', 'be']);
    expect(out.map((v) => Array.from(v))).toEqual([fakeVector('alpha', DIM), fakeVector('be', DIM)]);
    const req = server.requests[0]!;
    expect(req.url).toBe('/v1/embeddings');
    expect(req.headers['authorization']).toBe('Bearer sk-test-123');
    expect(req.body).toMatchObject({ model: 'text-embedding-3-small', input: ['alpha', 'be'] });
  });

  it('sends no authorization header without a key', async () => {
    server.behave(honest);
    server.requests.length = 0;
    await make().embed(['x']);
    expect(server.requests[0]!.headers['authorization']).toBeUndefined();
  });

  it('puts vectors back in input order by their index', async () => {
    server.behave((req, res) => sendJson(res, 200, { data: data(req).reverse() }));
    const out = await make().embed(['a', 'bbb', 'cc']);
    expect(out.map((v) => Array.from(v))).toEqual(['a', 'bbb', 'cc'].map((t) => fakeVector(t, DIM)));
  });

  it('a duplicated or out-of-range index is BAD_RESPONSE', async () => {
    server.behave((req, res) => sendJson(res, 200, { data: data(req).map((d) => ({ ...d, index: 0 })) }));
    expect(await failure(make().embed(['a', 'b']))).toBe('BAD_RESPONSE');
    server.behave((req, res) => sendJson(res, 200, { data: data(req).map((d) => ({ ...d, index: d.index + 5 })) }));
    expect(await failure(make().embed(['a']))).toBe('BAD_RESPONSE');
  });

  it('garbage and wrong shapes are BAD_RESPONSE', async () => {
    for (const text of [
      '<html>oops</html>',
      '',
      '{"data":[{"embedding":"AAAA","index":0}]}',
      '{"data":[{"embedding":[1,2,3,4,5,6],"index":-1}]}',
      '{"error":{"message":"x"}}',
    ]) {
      server.behave((_req, res) => sendJson(res, 200, text));
      expect(await failure(make().embed(['a']))).toBe('BAD_RESPONSE');
    }
  });

  it('vectors of another length are DIMENSION_MISMATCH', async () => {
    server.behave((req, res) => sendJson(res, 200, { data: data(req, DIM - 2) }));
    expect(await failure(make().embed(['a']))).toBe('DIMENSION_MISMATCH');
  });

  it('HTTP 401 and 500 are HTTP_ERROR', async () => {
    for (const status of [401, 500]) {
      server.behave((_req, res) => sendJson(res, status, { error: { message: 'no' } }));
      expect(await failure(make().embed(['a']))).toBe('HTTP_ERROR');
    }
  });

  it('a hanging server is TIMEOUT', async () => {
    server.behave(() => {
      /* hang */
    });
    expect(await failure(make({ timeoutMs: 250 }).embed(['a']))).toBe('TIMEOUT');
  });

  it('nobody listening is UNREACHABLE', async () => {
    const port = await closedPort();
    expect(await failure(new OpenAiEmbedder({ fetch, baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', dimension: DIM }).embed(['a']))).toBe('UNREACHABLE');
  });

  it('refuses an API key that could split the header', () => {
    expect(() => make({ apiKey: 'sk-1\r\nX-Evil: 1' })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});
