import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRANSPORT, type Result } from '../../src-shared/contract.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { invokeCall, invokeStream, toApiError } from '../api/dispatch.js';
import { UPLOAD_SCOPE } from '../api/call-scope.js';
import { ConsoleHost } from '../api/host.js';
import { ConsoleSession, type SessionOptions } from '../api/session.js';
import { SECURITY_HEADERS } from '../api/shell-policy.js';
import { UploadStore } from '../api/uploads.js';
import { checkCaller, checkOrigin, newToken, PageSessions, readJsonBody, Refusal, requireContentType, viewTenant } from './security.js';

export interface WebHostOptions extends SessionOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The built renderer; defaults to dist/renderer. */
  staticDir?: string;
}

export interface WebHost {
  /** The address to open, token included (in the fragment, so it never reaches a log). */
  url: string;
  origin: string;
  token: string;
  /** The vault and what every page shares. */
  console: ConsoleHost;
  /** Every page's own session, least recently used first. */
  sessions(): ConsoleSession[];
  /** The most recently used page's session (tests of one page). */
  readonly session: ConsoleSession;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** The built renderer: dist/renderer beside dist/src-main, or under dist/ when run from source. */
export function defaultStaticDir(): string {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = [path.join(up, 'renderer'), path.join(up, 'dist', 'renderer')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? candidates[0]!;
}

/** Every file of the build, read once at launch: no request path ever reaches the file system. */
function loadStaticFiles(dir: string): Map<string, { body: Buffer; type: string }> {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new BulkheadError('UNAVAILABLE', `no built console in ${dir}: run \`npm run build\` first`);
  }
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dir, rel);
    if (!fs.statSync(full).isFile()) continue;
    files.set(`/${rel.split(path.sep).join('/')}`, { body: fs.readFileSync(full), type: MIME[path.extname(rel)] ?? 'application/octet-stream' });
  }
  return files;
}

/** The call named in an API path; a malformed percent-escape (`/api/call/%`) is the caller's error. */
function callName(pathname: string, prefix: string): string {
  try {
    return decodeURIComponent(pathname.slice(prefix.length));
  } catch {
    throw new Refusal(400, { code: 'INPUT_INVALID', message: 'the call name in the path is not valid percent-encoding' });
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The console over loopback HTTP: the same contract as the Electron bridge, for a browser and
 * for the end-to-end tests. Listens on 127.0.0.1 only and refuses every API request from another
 * origin or with a body that does not fit the contract. A page exchanges the per-launch token for
 * a session token of its own (`/api/session`): each tab is its own server session, with its own
 * open tenant, and must unlock itself; every other request carries that session token.
 */
export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const files = loadStaticFiles(opts.staticDir ?? defaultStaticDir());
  const consoleHost = new ConsoleHost(opts);
  const pages = new PageSessions<ConsoleSession>();
  const token = newToken();
  let origin = '';

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof Refusal) send(res, err.status, { ok: false, error: err.error });
      else send(res, 500, { ok: false, error: toApiError(err) });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url.pathname);
    if (url.pathname === TRANSPORT.http.session) {
      checkCaller(req, origin, token);
      if (req.method !== 'POST') throw new Refusal(405, { code: 'INPUT_INVALID', message: 'the API takes POST requests only' });
      return send(res, 200, { ok: true, value: { session: pages.add(new ConsoleSession(consoleHost)) } });
    }
    checkOrigin(req, origin);
    const session = pages.of(req);
    if (req.method !== 'POST') throw new Refusal(405, { code: 'INPUT_INVALID', message: 'the API takes POST requests only' });
    if (url.pathname === TRANSPORT.http.upload) return upload(req, res, session);
    if (url.pathname.startsWith(TRANSPORT.http.call)) {
      requireContentType(req, 'application/json');
      const result = await invokeCall(session, callName(url.pathname, TRANSPORT.http.call), await readJsonBody(req), viewTenant(req));
      return send(res, statusOf(result), result);
    }
    if (url.pathname.startsWith(TRANSPORT.http.stream)) {
      requireContentType(req, 'application/json');
      return stream(req, res, session, callName(url.pathname, TRANSPORT.http.stream), await readJsonBody(req));
    }
    throw new Refusal(404, { code: 'INPUT_INVALID', message: 'no such API path' });
  }

  function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new Refusal(405, { code: 'INPUT_INVALID', message: 'method not allowed' });
    const file = files.get(pathname === '/' ? '/index.html' : pathname);
    if (!file) throw new Refusal(404, { code: 'INPUT_INVALID', message: 'not found' });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  async function upload(req: http.IncomingMessage, res: http.ServerResponse, session: ConsoleSession): Promise<void> {
    requireContentType(req, 'application/octet-stream');
    const raw = req.headers[TRANSPORT.headers.fileName];
    let name: string;
    try {
      name = typeof raw === 'string' ? decodeURIComponent(raw) : '';
    } catch {
      name = '';
    }
    if (!name) throw new Refusal(400, { code: 'INPUT_INVALID', message: `the file name is missing (${TRANSPORT.headers.fileName})` });
    let result: Result<unknown>;
    try {
      session.touch();
      session.admit(UPLOAD_SCOPE, viewTenant(req));
      const { handle } = session.scope();
      result = { ok: true, value: await session.uploads.add(handle.id, name, req as AsyncIterable<Buffer>) };
    } catch (err) {
      req.resume();
      result = { ok: false, error: toApiError(err) };
    }
    send(res, statusOf(result), result);
  }

  async function stream(req: http.IncomingMessage, res: http.ServerResponse, session: ConsoleSession, name: string, body: unknown): Promise<void> {
    const stop = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) stop.abort(new BulkheadError('CANCELLED', 'stopped'));
    });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.flushHeaders();
    const write = (event: string, data: unknown): void => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const result = await invokeStream(session, name, body, (e) => write('event', e), stop.signal, viewTenant(req));
    write('result', result);
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    console: consoleHost,
    sessions: () => pages.all(),
    get session(): ConsoleSession {
      const all = pages.all();
      const last = all[all.length - 1];
      if (!last) throw new BulkheadError('UNAVAILABLE', 'no page has opened a session yet');
      return last;
    },
    close: async () => {
      pages.clear();
      consoleHost.dispose();
      new UploadStore(consoleHost.vault.paths.dataDir).sweep();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function statusOf(result: Result<unknown>): number {
  if (result.ok) return 200;
  return result.error.code === 'INPUT_INVALID' ? 400 : result.error.code === 'INTERNAL' ? 500 : 200;
}
