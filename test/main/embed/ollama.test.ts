import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmbedderError } from '../../../src-main/embed/embedder.js';
import type { EmbedderErrorCode } from '../../../src-main/embed/embedder.js';
import { OllamaEmbedder } from '../../../src-main/embed/ollama.js';
import type { TestServer } from '../../helpers/embedding-server.js';
import { closedPort, fakeVector, sendJson, startServer } from '../../helpers/embedding-server.js';

const DIM = 8;
let server: TestServer;

const honest = (req: { body: unknown }, res: Parameters<typeof sendJson>[0]): void => {
  const input = (req.body as { input: string[] }).input;
  sendJson(res, 200, { model: 'm', embeddings: input.map((t) => fakeVector(t, DIM)) });
};

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

describe('OllamaEmbedder against a real HTTP server', () => {
  it('posts {model, input} to /api/embed and returns one checked vector per text, in order', async () => {
    server.behave(honest);
    server.requests.length = 0;
    const e = new OllamaEmbedder({ fetch, baseUrl: `${server.baseUrl}/`, model: 'nomic-embed-text', dimension: DIM, batchSize: 2 });
    const texts = ['a', 'bb', 'ccc'];
    const out = await e.embed(texts);
    expect(out.map((v) => Array.from(v))).toEqual(texts.map((t) => fakeVector(t, DIM)));
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/api/embed'],
      ['POST', '/api/embed'],
    ]);
    expect(server.requests[0]!.body).toEqual({ model: 'nomic-embed-text', input: ['a', 'bb'] });
    expect(server.requests[1]!.body).toEqual({ model: 'nomic-embed-text', input: ['ccc'] });
    expect(e.id).toBe('ollama:nomic-embed-text');
  });

  it('sends nothing for no texts', async () => {
    server.requests.length = 0;
    const e = new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM });
    expect(await e.embed([])).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('garbage instead of JSON is BAD_RESPONSE', async () => {
    server.behave((_req, res) => sendJson(res, 200, '{"embeddings": [[1,2,'));
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['x']))).toBe('BAD_RESPONSE');
  });

  it('JSON of the wrong shape is BAD_RESPONSE', async () => {
    for (const body of [{}, { embeddings: 'no' }, { embeddings: [['1', 2]] }, { embeddings: [[null]] }, [1, 2], null]) {
      server.behave((_req, res) => sendJson(res, 200, JSON.stringify(body)));
      expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['x']))).toBe('BAD_RESPONSE');
    }
  });

  it('a number too large for a double (Infinity) is BAD_RESPONSE', async () => {
    server.behave((_req, res) => sendJson(res, 200, `{"embeddings":[[1e400${',0'.repeat(DIM - 1)}]]}`));
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['x']))).toBe('BAD_RESPONSE');
  });

  it('vectors of another length are DIMENSION_MISMATCH', async () => {
    server.behave((req, res) => sendJson(res, 200, { embeddings: (req.body as { input: string[] }).input.map((t) => fakeVector(t, DIM + 1)) }));
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['x']))).toBe('DIMENSION_MISMATCH');
  });

  it('fewer vectors than texts is BAD_RESPONSE', async () => {
    server.behave((_req, res) => sendJson(res, 200, { embeddings: [fakeVector('a', DIM)] }));
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['a', 'b']))).toBe('BAD_RESPONSE');
  });

  it('HTTP 500 is HTTP_ERROR, and the message does not repeat the body', async () => {
    server.behave((_req, res) => sendJson(res, 500, { error: 'secret tenant text' }));
    const p = new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['x']);
    await expect(p).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    await expect(p).rejects.not.toThrow(/secret/);
  });

  it('a server that never answers is TIMEOUT, within the deadline', async () => {
    server.behave(() => {
      /* hang */
    });
    const started = Date.now();
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM, timeoutMs: 300 }).embed(['x']))).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a server that sends headers and then stalls the body is TIMEOUT', async () => {
    server.behave((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"embeddings":');
    });
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM, timeoutMs: 300 }).embed(['x']))).toBe('TIMEOUT');
  });

  it('the caller cancelling is ABORTED, not TIMEOUT', async () => {
    server.behave(() => {
      /* hang */
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect(
      await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM, timeoutMs: 10_000 }).embed(['x'], controller.signal)),
    ).toBe('ABORTED');
  });

  it('nobody listening is UNREACHABLE', async () => {
    const port = await closedPort();
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: `http://127.0.0.1:${port}`, model: 'm', dimension: DIM }).embed(['x']))).toBe('UNREACHABLE');
  });

  it('a redirect is not followed', async () => {
    server.behave((_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:9/api/embed' });
      res.end();
    });
    expect(await failure(new OllamaEmbedder({ fetch, baseUrl: server.baseUrl, model: 'm', dimension: DIM }).embed(['x']))).toBe('UNREACHABLE');
  });

  it('refuses a URL that is not http(s) or carries credentials', () => {
    for (const baseUrl of ['file:///etc/passwd', 'not a url', 'http://user:pw@127.0.0.1:1']) {
      expect(() => new OllamaEmbedder({ fetch, baseUrl, model: 'm', dimension: DIM })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    }
  });
});
