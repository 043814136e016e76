// A real HTTP server on 127.0.0.1 that the embedder tests talk to: each test says how it answers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
}

export type Behaviour = (req: ReceivedRequest, res: http.ServerResponse) => void;

export interface TestServer {
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  /** How the next requests are answered. */
  behave(b: Behaviour): void;
  close(): Promise<void>;
}

/** `listen` is the address to bind (0.0.0.0 to be reached as http://0.0.0.0:PORT too); the base URL names `urlHost`. */
export async function startServer(initial: Behaviour, opts: { listen?: string; urlHost?: string } = {}): Promise<TestServer> {
  let behaviour = initial;
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(received);
      behaviour(received, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, opts.listen ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${opts.urlHost ?? '127.0.0.1'}:${port}`,
    requests,
    behave(b) {
      behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // hanging responses included
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A vector that depends on the text, so order mistakes show. */
export function fakeVector(text: string, dimension: number): number[] {
  return Array.from({ length: dimension }, (_, i) => ((text.length + 1) * (i + 1)) % 7);
}

/** A port that refuses connections: bound, then released. */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
