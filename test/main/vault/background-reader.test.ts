import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readInBackground, stopBackgroundReader } from '../../../src-main/vault/background-reader.js';
import { closeTenants, countRows, openFreshTenant } from '../../helpers/retrieval.js';

afterEach(closeTenants);
afterAll(stopBackgroundReader);

const jobs = new URL('../../helpers/background-jobs.ts', import.meta.url);

describe('the background reader', () => {
  it('runs a job on a second, read-only connection to the open tenant file, and hands typed arrays back', async () => {
    const tenant = await openFreshTenant('Background');
    tenant.db.exec('CREATE TABLE probe (x INTEGER)');
    tenant.db.prepare('INSERT INTO probe (x) VALUES (1), (2), (3)').run();
    const got = await readInBackground<{ rows: number; queryOnly: number; file: string; ids: Int32Array }>(tenant, {
      module: jobs,
      name: 'describeConnection',
      args: ['probe'],
    });
    expect(got).toMatchObject({ rows: 3, queryOnly: 1, file: tenant.db.name });
    expect(got.ids).toBeInstanceOf(Int32Array);
    expect(Array.from(got.ids)).toEqual([1, 2, 3]);
  });

  it('refuses writes, and unknown jobs, without touching the tenant', async () => {
    const tenant = await openFreshTenant('Background');
    tenant.db.exec('CREATE TABLE probe (x INTEGER)');
    tenant.db.prepare('INSERT INTO probe (x) VALUES (1)').run();
    await expect(readInBackground(tenant, { module: jobs, name: 'tryToWrite', args: ['probe'] })).rejects.toThrow(/readonly|read-only|query_only/i);
    await expect(readInBackground(tenant, { module: jobs, name: 'noSuchJob', args: [] })).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(countRows(tenant, 'SELECT x FROM probe')).toBe(1);
  });

  it('starts a new thread for the next job after a stop', async () => {
    const tenant = await openFreshTenant('Background');
    tenant.db.exec('CREATE TABLE probe (x INTEGER)');
    await readInBackground(tenant, { module: jobs, name: 'describeConnection', args: ['probe'] });
    await stopBackgroundReader();
    await expect(readInBackground(tenant, { module: jobs, name: 'describeConnection', args: ['probe'] })).resolves.toMatchObject({ rows: 0 });
  });

  it('does not keep a process alive while it waits for work', () => {
    const script = `import { startBackgroundReader } from ${JSON.stringify(path.resolve('dist/src-main/vault/background-reader.js'))}; startBackgroundReader(); console.log('started');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(run.stdout.trim()).toBe('started');
    expect(run.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(run.status).toBe(0);
  });
});
