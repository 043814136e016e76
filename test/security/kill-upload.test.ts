import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshVault, TEST_PASSPHRASE } from '../helpers/vault.js';

const CANARY = 'marmot-staged-secret-4471';
const FILE_NAME = 'Marmot Holdings board minutes.txt';

function allUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).map((f) => path.join(dir, f));
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a web host killed mid-upload', () => {
  it('leaves no plaintext (content or file name) staged, and the next CLI unlock removes what it left', async () => {
    const vault = await freshVault();
    const dataDir = vault.paths.dataDir;
    const tenant = vault.createTenant('Marmot Holdings');
    vault.lock();

    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/helpers/child-web-host.ts'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until('the web host', () => /ready \S+ \S+\n/.test(out));
    const [, origin, token] = /ready (\S+) (\S+)\n/.exec(out)!;
    // A page of the console: the launch token is traded for this page's own session.
    const session = (
      (await (await fetch(`${origin}/api/session`, { method: 'POST', headers: { 'x-bulkhead-token': token! } })).json()) as { value: { session: string } }
    ).value.session;
    const call = async (name: string, body: unknown): Promise<{ ok: boolean }> =>
      (await (
        await fetch(`${origin}/api/call/${name}`, {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json', 'x-bulkhead-session': session, 'x-bulkhead-tenant': tenant.id },
        })
      ).json()) as { ok: boolean };
    expect(await call('vault.unlock', { passphrase: TEST_PASSPHRASE })).toMatchObject({ ok: true });
    expect(await call('tenants.open', { tenantId: tenant.id })).toMatchObject({ ok: true });

    // Half a file sent, the request still open: the host is staging it when it dies.
    const req = http.request(`${origin}/api/upload`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'x-bulkhead-session': session,
        'x-bulkhead-tenant': tenant.id,
        'x-bulkhead-file-name': encodeURIComponent(FILE_NAME),
      },
    });
    req.on('error', () => undefined);
    req.write(Buffer.from(`${CANARY} `.repeat(20_000)));
    const uploads = path.join(dataDir, 'uploads');
    await until('a staged file', () => allUnder(uploads).some((f) => fs.statSync(f).isFile() && fs.statSync(f).size > 100_000));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const left = allUnder(uploads).filter((f) => fs.statSync(f).isFile());
    expect(left.length).toBeGreaterThan(0);
    for (const f of left) {
      const bytes = fs.readFileSync(f);
      expect(bytes.includes(Buffer.from(CANARY)), 'plaintext staged').toBe(false);
      expect(bytes.includes(Buffer.from(CANARY, 'utf16le'))).toBe(false);
    }
    expect(allUnder(uploads).join('\n')).not.toMatch(/Marmot|board minutes/);

    // Any entry point's unlock removes it: here, the CLI listing tenants.
    const r = spawnSync(process.execPath, [path.resolve('bin/bulkhead.js'), '--data-dir', dataDir, 'tenant', 'list'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE },
    });
    expect(r.status).toBe(0);
    expect(fs.existsSync(uploads)).toBe(false);
  });
});
