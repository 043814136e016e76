import crypto from 'node:crypto';
import type http from 'node:http';
import { TRANSPORT, type ApiError } from '../../src-shared/contract.js';

export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: ApiError,
  ) {
    super(error.message);
  }
}

const refuse = (status: number, message: string, code: ApiError['code'] = 'UNAUTHORIZED'): Refusal => new Refusal(status, { code, message });

/**
 * Who may call the API: a request to this host's own name (no DNS rebinding), from no origin
 * or this one (no other web page), carrying the per-launch token (compared in constant time).
 */
export function checkCaller(req: http.IncomingMessage, origin: string, token: string): void {
  checkOrigin(req, origin);
  const given = req.headers[TRANSPORT.headers.token];
  if (typeof given !== 'string' || !sameSecret(given, token)) throw refuse(401, 'missing or wrong access token: open the URL the console printed');
}

/** Same-host, same-origin, same-site: the checks every API request passes before its token is read. */
export function checkOrigin(req: http.IncomingMessage, origin: string): void {
  const host = req.headers.host;
  const port = new URL(origin).port;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) throw refuse(403, 'requests must be addressed to 127.0.0.1');
  const from = req.headers.origin;
  if (from !== undefined && from !== origin && from !== `http://localhost:${port}`) throw refuse(403, 'requests from other origins are refused');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw refuse(403, 'requests from other sites are refused');
}

/**
 * The page sessions of one web host, keyed by a hash of their token (a lookup compares no secret
 * byte by byte). At most `limit` pages: a new one ends the least recently used.
 */
export class PageSessions<S extends { dispose(): void }> {
  readonly #byKey = new Map<string, S>();

  constructor(readonly limit = 32) {}

  add(session: S): string {
    const token = newToken();
    while (this.#byKey.size >= this.limit) {
      const [oldest, s] = this.#byKey.entries().next().value as [string, S];
      this.#byKey.delete(oldest);
      s.dispose();
    }
    this.#byKey.set(keyOf(token), session);
    return token;
  }

  /** The session of the request's session token; 401 without a live one. */
  of(req: http.IncomingMessage): S {
    const given = req.headers[TRANSPORT.headers.session];
    const key = typeof given === 'string' && given.length > 0 && given.length <= 128 ? keyOf(given) : '';
    const s = this.#byKey.get(key);
    if (!s) throw refuse(401, 'this page has no session (it ended or the console restarted): reload the page');
    // Most recently used last, so the oldest idle page is the one a new page ends.
    this.#byKey.delete(key);
    this.#byKey.set(key, s);
    return s;
  }

  all(): S[] {
    return [...this.#byKey.values()];
  }

  clear(): void {
    for (const s of this.#byKey.values()) s.dispose();
    this.#byKey.clear();
  }
}

function keyOf(token: string): string {
  return crypto.createHash('sha256').update(token).digest('base64url');
}

/** The tenant the page's view shows, from its header; null when it shows none. */
export function viewTenant(req: http.IncomingMessage): string | null {
  const v = req.headers[TRANSPORT.headers.tenant];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function sameSecret(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

export function requireContentType(req: http.IncomingMessage, expected: string): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== expected) throw refuse(415, `the body must be ${expected}`, 'INPUT_INVALID');
}

export const JSON_BODY_LIMIT = 1024 * 1024;

/** The request body as JSON, refusing anything larger than the limit or not JSON. */
export async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > JSON_BODY_LIMIT) throw refuse(413, 'the request body is too large', 'INPUT_INVALID');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw refuse(400, 'the request body is not valid JSON', 'INPUT_INVALID');
  }
}
