import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebHost, type WebHost } from '../../../src-main/web/server.js';
import { TEST_KDF, TEST_PASSPHRASE, hashTree, tempDir } from '../../helpers/vault.js';

let host: WebHost;
let dataDir: string;
let page: string;

function staticBuild(): string {
  const dir = tempDir('bulkhead-static-');
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
  return dir;
}

beforeEach(async () => {
  dataDir = tempDir();
  host = await startWebHost({ dataDir, kdf: TEST_KDF, staticDir: staticBuild() });
  page = await openPage();
});
afterEach(async () => host.close());

/** What a page does first: trades the launch token for a session token of its own. */
async function openPage(): Promise<string> {
  const res = await fetch(`${host.origin}/api/session`, { method: 'POST', headers: { 'x-bulkhead-token': host.token } });
  return ((await res.json()) as { value: { session: string } }).value.session;
}

function post(pathname: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(host.origin + pathname, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-bulkhead-session': page, ...headers } });
}

async function json(res: Response): Promise<{ ok: boolean; error?: { code: string; message: string }; value?: unknown }> {
  return (await res.json()) as never;
}

const initBody = JSON.stringify({ passphrase: TEST_PASSPHRASE });

describe('the web host', () => {
  it('listens on 127.0.0.1 only and prints the token in the URL fragment', () => {
    expect(host.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(host.url).toBe(`${host.origin}/#token=${host.token}`);
    expect(host.token.length).toBeGreaterThanOrEqual(43);
  });

  it('refuses a call without the token, or with a wrong one, and changes nothing', async () => {
    for (const headers of [{ 'x-bulkhead-token': '' }, { 'x-bulkhead-token': `${host.token}x` }]) {
      const res = await fetch(`${host.origin}/api/session`, { method: 'POST', headers });
      expect(res.status).toBe(401);
      expect((await json(res)).error?.code).toBe('UNAUTHORIZED');
    }
    // The launch token alone opens no call: only a page's session token does.
    for (const headers of [{ 'x-bulkhead-session': '' }, { 'x-bulkhead-session': `${page}x` }, { 'x-bulkhead-session': host.token }]) {
      const res = await post('/api/call/vault.initialize', initBody, headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error?.code).toBe('UNAUTHORIZED');
    }
    const bare = await fetch(`${host.origin}/api/call/vault.initialize`, {
      method: 'POST',
      body: initBody,
      headers: { 'content-type': 'application/json', 'x-bulkhead-token': host.token },
    });
    expect(bare.status).toBe(401);
    expect(fs.existsSync(path.join(dataDir, 'keyring.json'))).toBe(false);
  });

  it('refuses requests from another origin or site, or to another host name, and changes nothing', async () => {
    const cases: Record<string, string>[] = [{ origin: 'http://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }];
    for (const headers of cases) {
      const res = await post('/api/call/vault.initialize', initBody, headers);
      expect(res.status).toBe(403);
      expect((await json(res)).error?.code).toBe('UNAUTHORIZED');
    }
    expect(fs.existsSync(path.join(dataDir, 'keyring.json'))).toBe(false);
  });

  it('refuses a DNS-rebound host name', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${host.origin}/api/call/vault.status`,
        { method: 'POST', headers: { host: 'attacker.example', 'content-type': 'application/json', 'x-bulkhead-session': page } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
  });

  it('refuses malformed bodies with a typed error naming the problem, and changes nothing', async () => {
    const bad: [string, string, Record<string, string>, number, string][] = [
      ['/api/call/vault.initialize', '{not json', {}, 400, 'not valid JSON'],
      ['/api/call/vault.initialize', JSON.stringify({ passphrase: 'short' }), {}, 400, 'passphrase'],
      ['/api/call/vault.initialize', JSON.stringify({ passphrase: TEST_PASSPHRASE, admin: true }), {}, 400, 'admin'],
      ['/api/call/vault.initialize', JSON.stringify([1, 2]), {}, 400, 'INPUT'],
      ['/api/call/vault.initialize', initBody, { 'content-type': 'text/plain' }, 415, 'application/json'],
      ['/api/call/no.such.call', '{}', {}, 400, 'no such call'],
      ['/api/call/%', '{}', {}, 400, 'percent-encoding'],
      ['/api/stream/%E0%A4%A', '{}', {}, 400, 'percent-encoding'],
      ['/api/call/vault.initialize', JSON.stringify({ passphrase: 'x'.repeat(2_000_000) }), {}, 413, 'too large'],
    ];
    for (const [p, body, headers, status, mention] of bad) {
      const res = await post(p, body, headers);
      expect(res.status, `${p} ${body.slice(0, 40)}`).toBe(status);
      const r = await json(res);
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('INPUT_INVALID');
      expect(`${r.error?.code} ${r.error?.message}`).toContain(mention === 'INPUT' ? 'INPUT_INVALID' : mention);
    }
    expect(fs.existsSync(path.join(dataDir, 'keyring.json'))).toBe(false);
  });

  it('answers GET on the API with 405 and unknown paths with 404', async () => {
    const get = await fetch(`${host.origin}/api/call/vault.status`, { headers: { 'x-bulkhead-session': page } });
    expect(get.status).toBe(405);
    expect((await fetch(`${host.origin}/../keyring.json`)).status).toBe(404);
    expect((await fetch(`${host.origin}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
  });

  it('sends a strict CSP, no-store and no-sniff on pages and answers', async () => {
    for (const res of [await fetch(`${host.origin}/`), await post('/api/call/vault.status', '{}')]) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('keeps an upload in a private folder and deletes it once ingested', async () => {
    expect((await json(await post('/api/call/vault.initialize', initBody))).ok).toBe(true);
    const noTenant = await json(await post('/api/upload', 'hello', { 'content-type': 'application/octet-stream', 'x-bulkhead-file-name': 'a.txt' }));
    expect(noTenant.error?.code).toBe('NO_TENANT_OPEN');
    const t = (await json(await post('/api/call/tenants.create', JSON.stringify({ name: 'Upload Co' })))).value as { id: string };
    await post('/api/call/tenants.open', JSON.stringify({ tenantId: t.id }));
    const view = { 'x-bulkhead-tenant': t.id };
    const up = await json(
      await post('/api/upload', 'the marmot report', {
        'content-type': 'application/octet-stream',
        'x-bulkhead-file-name': encodeURIComponent('../../évasion.txt'),
        ...view,
      }),
    );
    const upload = up.value as { uploadId: string; name: string };
    expect(upload.name).toBe('évasion.txt');
    const uploads = path.join(dataDir, 'uploads');
    expect(fs.statSync(uploads).mode & 0o777).toBe(0o700);
    const files = Object.keys(hashTree(uploads));
    expect(files).toHaveLength(1);
    expect(fs.statSync(path.join(uploads, files[0]!)).mode & 0o777).toBe(0o600);

    const res = await post('/api/stream/ingest.run', JSON.stringify({ uploadIds: [upload.uploadId] }), view);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toContain('event: event');
    expect(text).toMatch(/event: result\ndata: \{"ok":true/);
    expect(text).not.toContain(uploads);
    expect(Object.keys(hashTree(uploads))).toEqual([]);
    const docs = (await json(await post('/api/call/documents.list', '{}', view))).value as { items: { sourcePath: string }[] };
    // An upload's identity is its name and its content (see test/main/api/upload-identity.test.ts).
    expect(docs.items.map((d) => d.sourcePath)).toEqual([expect.stringMatching(/^upload:[0-9a-f]{16}\/évasion\.txt$/)]);
  });

  it('makes each page its own session: its own unlock, its own open tenant, and a stale view is refused', async () => {
    const first = page;
    expect((await json(await post('/api/call/vault.initialize', initBody))).ok).toBe(true);
    const acme = (await json(await post('/api/call/tenants.create', JSON.stringify({ name: 'Acme Corp' })))).value as { id: string };
    const beta = (await json(await post('/api/call/tenants.create', JSON.stringify({ name: 'Beta' })))).value as { id: string };
    expect((await json(await post('/api/call/tenants.open', JSON.stringify({ tenantId: acme.id })))).ok).toBe(true);

    // A second page of the same launch URL: the vault is unlocked, but not for this page.
    page = await openPage();
    expect(page).not.toBe(first);
    expect(((await json(await post('/api/call/vault.status', '{}'))).value as { state: string }).state).toBe('locked');
    expect((await json(await post('/api/call/tenants.list', '{}'))).error?.code).toBe('LOCKED');
    expect((await json(await post('/api/call/vault.unlock', JSON.stringify({ passphrase: `${TEST_PASSPHRASE}x` })))).error?.code).toBe('WRONG_PASSPHRASE');
    expect((await json(await post('/api/call/vault.unlock', JSON.stringify({ passphrase: TEST_PASSPHRASE })))).ok).toBe(true);
    expect((await json(await post('/api/call/tenants.open', JSON.stringify({ tenantId: beta.id })))).ok).toBe(true);
    await post('/api/upload', 'beta only', { 'content-type': 'application/octet-stream', 'x-bulkhead-file-name': 'b.txt', 'x-bulkhead-tenant': beta.id });

    // Back on the first page: still Acme, whatever the second did; naming Beta is refused.
    page = first;
    const status = (await json(await post('/api/call/vault.status', '{}'))).value as { tenant: { id: string } | null };
    expect(status.tenant?.id).toBe(acme.id);
    const stale = await json(await post('/api/call/documents.list', '{}', { 'x-bulkhead-tenant': beta.id }));
    expect(stale.error?.code).toBe('TENANT_CHANGED');
    const unnamed = await json(await post('/api/call/documents.list', '{}'));
    expect(unnamed.error?.code).toBe('TENANT_CHANGED');
    const up = await json(
      await post('/api/upload', 'acme', { 'content-type': 'application/octet-stream', 'x-bulkhead-file-name': 'a.txt', 'x-bulkhead-tenant': beta.id }),
    );
    expect(up.error?.code).toBe('TENANT_CHANGED');
    expect(host.sessions().map((s) => s.current?.id)).toEqual([beta.id, acme.id]);
  });
});
