import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/vault.js';

const BIN = path.resolve('bin/bulkhead.js');
const PASS = 'cli test passphrase';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: PASS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bulkhead CLI', () => {
  it('is built (npm test builds it first)', () => {
    expect(fs.existsSync(path.resolve('dist/src-main/cli/bin.js'))).toBe(true);
  });

  it('init, create, list, rename and delete a tenant, with --json output and a deletion receipt', () => {
    const dir = tempDir();
    const d = ['--data-dir', dir];
    expect(cli([...d, 'init'])).toMatchObject({ code: 0 });
    const created = cli([...d, '--json', 'tenant', 'create', 'Acme Corp']);
    expect(created.code).toBe(0);
    const acme = JSON.parse(created.stdout);
    expect(acme).toMatchObject({ name: 'Acme Corp', id: expect.stringMatching(/^t_/) });
    expect(cli([...d, 'tenant', 'create', 'Globex']).stdout).toMatch(/Created tenant "Globex"/);

    const list = JSON.parse(cli([...d, '--json', 'tenant', 'list']).stdout);
    expect(list.map((t: { name: string }) => t.name)).toEqual(['Acme Corp', 'Globex']);

    const renamed = cli([...d, '--json', 'tenant', 'rename', 'acme corp', 'Acme Holdings']);
    expect(renamed.code).toBe(0);
    expect(JSON.parse(renamed.stdout)).toMatchObject({ id: acme.id, name: 'Acme Holdings' });

    const del = cli([...d, 'tenant', 'delete', acme.id, '--yes']);
    expect(del.code).toBe(0);
    expect(del.stdout).toContain(acme.id);
    expect(del.stdout).toMatch(/key destroyed: yes/);
    expect(del.stdout).toContain(`${acme.id}.bulkhead`);
    expect(fs.readdirSync(path.join(dir, 'tenants')).some((f) => f.startsWith(acme.id))).toBe(false);
    expect(JSON.parse(cli([...d, '--json', 'tenant', 'list']).stdout)).toHaveLength(1);
  });

  it('reads the data dir from BULKHEAD_DATA_DIR when --data-dir is absent', () => {
    const dir = tempDir();
    expect(cli(['init'], { BULKHEAD_DATA_DIR: dir }).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'keyring.json'))).toBe(true);
    expect(cli(['tenant', 'create', 'Env Client'], { BULKHEAD_DATA_DIR: dir }).code).toBe(0);
  });

  it('answers failures with a meaningful exit code and one line on stderr', () => {
    const dir = tempDir();
    const d = ['--data-dir', dir];
    const notInit = cli([...d, 'tenant', 'list']);
    expect(notInit.code).toBe(3);
    expect(notInit.stderr.trim().split('\n')).toHaveLength(1);
    expect(notInit.stderr).toMatch(/NOT_INITIALIZED/);

    cli([...d, 'init']);
    expect(cli([...d, 'init']).code).toBe(6);
    cli([...d, 'tenant', 'create', 'Acme']);

    const wrong = cli([...d, 'tenant', 'list'], { BULKHEAD_PASSPHRASE: 'not the passphrase' });
    expect(wrong).toMatchObject({ code: 3, stdout: '' });
    expect(wrong.stderr).toMatch(/^bulkhead: wrong passphrase \[WRONG_PASSPHRASE\]\n$/);

    expect(cli([...d, 'tenant', 'create', 'ACME']).code).toBe(6);
    const bad = cli([...d, 'tenant', 'create', 'a\u0007b']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/control characters/);
    expect(cli([...d, 'tenant', 'delete', 'Nobody', '--yes']).code).toBe(4);
    expect(cli([...d, 'tenant', 'frobnicate']).code).toBe(2);

    const json = cli([...d, '--json', 'tenant', 'delete', 'Nobody', '--yes']);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'TENANT_NOT_FOUND', message: expect.any(String) } });
  });

  it('refuses to delete without --yes when not on a terminal, and deletes nothing', () => {
    const dir = tempDir();
    const d = ['--data-dir', dir];
    cli([...d, 'init']);
    cli([...d, 'tenant', 'create', 'Acme']);
    const r = cli([...d, 'tenant', 'delete', 'Acme']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(JSON.parse(cli([...d, '--json', 'tenant', 'list']).stdout)).toHaveLength(1);
  });

  it('without a passphrase and without a terminal, says how to give one', () => {
    const dir = tempDir();
    cli(['--data-dir', dir, 'init']);
    const r = cli(['--data-dir', dir, 'tenant', 'list'], { BULKHEAD_PASSPHRASE: undefined });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/BULKHEAD_PASSPHRASE/);
  });

  it('doctor reports the versions of SQLite, the cipher and sqlite-vec, and the data dir', () => {
    const dir = tempDir();
    cli(['--data-dir', dir, 'init']);
    cli(['--data-dir', dir, 'tenant', 'create', 'Acme']);
    const r = JSON.parse(cli(['--data-dir', dir, '--json', 'doctor', '--deep']).stdout);
    expect(r).toMatchObject({
      sqlite: expect.stringMatching(/^3\.\d+\.\d+$/),
      cipher: expect.stringMatching(/Multiple Ciphers/),
      sqliteVec: expect.stringMatching(/^v0\./),
      dataDir: path.resolve(dir),
      state: 'unlocked',
      permissions: { dataDir: '0700', tenants: '0700', keyring: '0600' },
      orphanFiles: [],
    });
    expect(r.tenants).toEqual([expect.objectContaining({ name: 'Acme', ok: true })]);
  });
});
