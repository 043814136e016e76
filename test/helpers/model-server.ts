// A real OpenAI-compatible chat server on 127.0.0.1 for the agent's tests: POST
// /v1/chat/completions with SSE streaming (text deltas and tool_calls deltas), GET /v1/models.
// It records every request's raw body, and each test scripts how it answers, hostile included.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body exactly as received. */
  readonly raw: string;
  readonly body: ChatRequestBody | null;
}

export interface ChatRequestBody {
  model: string;
  stream?: boolean;
  messages: { role: string; content?: string | null; tool_call_id?: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }[];
  tools?: { type: string; function: { name: string; parameters: unknown } }[];
}

export type Reply =
  | { kind: 'text'; text: string; pieces?: number }
  | { kind: 'tools'; calls: { name: string; arguments: string }[]; text?: string }
  | { kind: 'status'; status: number; body?: string }
  /** Streams these pieces of text, then cuts the connection (a crash mid-stream). */
  | { kind: 'die-mid-stream'; pieces: string[] }
  /** Streams these pieces, then an SSE error event with a 500 status in it. */
  | { kind: 'error-mid-stream'; pieces: string[] }
  /** 200 with an event stream of garbage. */
  | { kind: 'garbage' }
  /** Sends headers and then nothing (slow model). */
  | { kind: 'stall' }
  /** Sends these pieces, then waits `delayMs` before finishing with `after`. */
  | { kind: 'slow-text'; pieces: string[]; delayMs: number; after: string };

export type Script = (body: ChatRequestBody, callIndex: number) => Reply;

export interface ModelServer {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Chat requests only. */
  chatBodies(): ChatRequestBody[];
  /** Responses the client hung up on before they ended. */
  dropped(): number;
  /** How the next chat requests are answered; the call index starts again at 0. */
  script(s: Script): void;
  close(): Promise<void>;
}

const sse = (res: http.ServerResponse, data: unknown): boolean => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

function chunk(id: string, model: string, delta: Record<string, unknown>, finish: string | null = null): unknown {
  return { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finish }] };
}

function split(text: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, pieces)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function startStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

async function answer(res: http.ServerResponse, model: string, reply: Reply, call: number): Promise<void> {
  const id = `chatcmpl-${call}`;
  switch (reply.kind) {
    case 'status':
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body ?? JSON.stringify({ error: { message: `scripted ${reply.status}`, type: 'server_error' } }));
      return;
    case 'text':
      startStream(res);
      sse(res, chunk(id, model, { role: 'assistant', content: '' }));
      for (const piece of split(reply.text, reply.pieces ?? 4)) sse(res, chunk(id, model, { content: piece }));
      sse(res, chunk(id, model, {}, 'stop'));
      sse(res, '[DONE]');
      res.end();
      return;
    case 'tools':
      startStream(res);
      sse(res, chunk(id, model, { role: 'assistant', content: reply.text ?? null }));
      reply.calls.forEach((c, index) => {
        const args = c.arguments;
        const half = Math.floor(args.length / 2);
        sse(
          res,
          chunk(id, model, {
            tool_calls: [{ index, id: `call_${call}_${index}`, type: 'function', function: { name: c.name, arguments: args.slice(0, half) } }],
          }),
        );
        sse(res, chunk(id, model, { tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
      });
      sse(res, chunk(id, model, {}, 'tool_calls'));
      sse(res, '[DONE]');
      res.end();
      return;
    case 'die-mid-stream':
      startStream(res);
      for (const piece of reply.pieces) sse(res, chunk(id, model, { content: piece }));
      await new Promise((r) => setTimeout(r, 20));
      res.socket?.destroy();
      return;
    case 'error-mid-stream':
      startStream(res);
      for (const piece of reply.pieces) sse(res, chunk(id, model, { content: piece }));
      sse(res, { error: { message: 'internal server error', type: 'server_error', code: 500 } });
      res.end();
      return;
    case 'garbage':
      startStream(res);
      res.write('data: {this is not json\n\n');
      res.write('data: <html>oops</html>\n\n');
      res.end();
      return;
    case 'stall':
      startStream(res);
      return; // never writes again; the client must time out
    case 'slow-text':
      startStream(res);
      for (const piece of reply.pieces) sse(res, chunk(id, model, { content: piece }));
      await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      sse(res, chunk(id, model, { content: reply.after }));
      sse(res, chunk(id, model, {}, 'stop'));
      sse(res, '[DONE]');
      res.end();
      return;
  }
}

/** `listen` is the address to bind (0.0.0.0 to be reached on another interface); `urlHost` the host the base URL names. */
export async function startModelServer(
  initial: Script = () => ({ kind: 'text', text: 'ok' }),
  opts: { listen?: string; urlHost?: string } = {},
): Promise<ModelServer> {
  let script = initial;
  let calls = 0;
  let dropped = 0;
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      let body: ChatRequestBody | null = null;
      try {
        body = raw ? (JSON.parse(raw) as ChatRequestBody) : null;
      } catch {
        body = null;
      }
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body });
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model', created: 0, owned_by: 'test' }] }));
        return;
      }
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions') || !body) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const index = calls++;
      res.on('close', () => {
        if (!res.writableEnded) dropped++;
      });
      void answer(res, body.model, script(body, index), index).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, opts.listen ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = opts.urlHost ?? '127.0.0.1';
  return {
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    requests,
    dropped: () => dropped,
    chatBodies: () => requests.filter((r) => r.url.endsWith('/chat/completions') && r.body).map((r) => r.body!),
    script(s) {
      script = s;
      calls = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The last user message's text in a request (the question and its sources). */
export function lastUserText(body: ChatRequestBody): string {
  return [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}
