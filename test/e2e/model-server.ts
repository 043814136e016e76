// A real OpenAI-compatible chat server on 127.0.0.1 (SSE streaming), scripted per test. It
// records what it was sent, so a test can check which tenant's text reached the model.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelServer {
  baseUrl: string;
  /** Every request body received, parsed. */
  requests: { messages?: { role: string; content?: unknown }[] }[];
  /** The answer the next requests stream, split into tokens; `delayMs` between tokens. */
  answer(text: string, delayMs?: number): void;
  /** The next request is answered with this tool call instead (once); later ones with the answer. */
  callTool(name: string, args: object): void;
  close(): Promise<void>;
}

export async function startModelServer(): Promise<ModelServer> {
  let tokens: string[] = ['Hello.'];
  let delay = 0;
  const toolCalls: { name: string; args: object }[] = [];
  const requests: ModelServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'loopback-model', object: 'model', created: 0, owned_by: 'test' }] }));
        return;
      }
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ModelServer['requests'][number] & { stream?: boolean };
      requests.push(body);
      void stream(res, body.stream !== false);
    });
  });

  async function stream(res: http.ServerResponse, sse: boolean): Promise<void> {
    const id = `chatcmpl-${requests.length}`;
    if (!sse) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created: 0,
          model: 'loopback-model',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: tokens.join('') } }],
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (delta: object, finish: string | null = null): void => {
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: 'loopback-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    };
    send({ role: 'assistant', content: '' });
    const tool = toolCalls.shift();
    if (tool) {
      send({
        tool_calls: [{ index: 0, id: `call_${requests.length}`, type: 'function', function: { name: tool.name, arguments: JSON.stringify(tool.args) } }],
      });
      send({}, 'tool_calls');
      res.write('data: [DONE]\n\n');
      res.end();
      return;
    }
    for (const t of tokens) {
      if (res.destroyed) return;
      send({ content: t });
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
    send({}, 'stop');
    res.write('data: [DONE]\n\n');
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    callTool(name, args) {
      toolCalls.push({ name, args });
    },
    answer(text, delayMs = 0) {
      tokens = text.match(/\S+\s*|\s+/g) ?? [text];
      delay = delayMs;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
