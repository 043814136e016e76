import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAppLog, redactFields } from '../../../src-main/log/logger.js';
import { tempDir } from '../../helpers/vault.js';

const ID = 't_abcdefghijklmnopqrstuvwxyz';

function readLogs(dataDir: string): string[] {
  const dir = path.join(dataDir, 'logs');
  return fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

describe('app log', () => {
  it('lets ids, codes, counts and code words through and redacts every other string', () => {
    expect(
      redactFields({ tenant: ID, code: 'WRONG_PASSPHRASE', files: 3, ok: true, op: 'rekey', passphrase: 'hunter2hunter2', name: 'Acme', reason: 'Acme Corp' }),
    ).toEqual({ tenant: ID, code: 'WRONG_PASSPHRASE', files: 3, ok: true, op: 'rekey', passphrase: '[redacted]', name: '[redacted]', reason: '[redacted]' });
    expect(redactFields({ tenant: 'Acme', code: 'tenant "Acme" is damaged', op: 'x'.repeat(80) })).toEqual({
      tenant: '[redacted]',
      code: '[redacted]',
      op: '[redacted]',
    });
  });

  it('writes JSON lines to owner-only files under logs/, never a free-text event or field', async () => {
    const dataDir = tempDir();
    const log = await openAppLog(dataDir);
    log.info('tenant.open', { tenant: ID, ms: 12 });
    log.error('Acme Corp was opened', { message: 'tenant "Acme Corp" is damaged' } as never);
    await log.close();
    const dir = path.join(dataDir, 'logs');
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    const lines = readLogs(dataDir)
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ msg: 'tenant.open', tenant: ID, ms: 12, level: 30 });
    expect(lines[1]).toMatchObject({ msg: '[redacted]', message: '[redacted]', level: 50 });
    expect(readLogs(dataDir).join('')).not.toContain('Acme');
  });

  it('rotates by size and keeps a bounded number of files', async () => {
    const dataDir = tempDir();
    const log = await openAppLog(dataDir, { size: '1k', keep: 2 });
    for (let i = 0; i < 200; i++) {
      log.info('search', { tenant: ID, results: i });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 50));
    await log.close();
    const files = fs.readdirSync(path.join(dataDir, 'logs'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.length).toBeLessThanOrEqual(3);
    for (const f of files) expect(f).toMatch(/^bulkhead\.\d+\.log$/);
  });
});
