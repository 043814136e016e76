import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { processesWith, until } from '../../helpers/connectors.js';
import { tempDir } from '../../helpers/vault.js';

// The app quits, cleanly or killed: no connector process of its tenant stays behind.

function startApp(mode: 'exit' | 'wait', marker: string): Promise<{ child: ReturnType<typeof spawn>; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/helpers/child-connector.ts'), tempDir('bulkhead-quit-'), marker, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('\n')) resolve({ child, line: out.trim() });
    });
    child.once('error', reject);
  });
}

describe('quitting the app', () => {
  it('a clean exit kills every connector process group', async () => {
    const marker = `quit-exit-${crypto.randomBytes(4).toString('hex')}`;
    const { child, line } = await startApp('exit', marker);
    expect(line).toBe('started true');
    await new Promise((r) => child.once('close', r));
    expect(await until(() => processesWith(marker).length === 0)).toBe(true);
  }, 60_000);

  it('an app killed outright (SIGKILL) takes its sandboxed servers with it', async () => {
    const marker = `quit-kill-${crypto.randomBytes(4).toString('hex')}`;
    const { child, line } = await startApp('wait', marker);
    expect(line).toBe('started true');
    expect(processesWith(marker).length).toBeGreaterThanOrEqual(2);
    child.kill('SIGKILL');
    expect(await until(() => processesWith(marker).length === 0)).toBe(true);
  }, 60_000);
});
