import { spawn } from 'node:child_process';
import { TEST_PASSPHRASE } from './vault.js';

export interface KilledRun {
  /** Everything the child printed on stdout before it died. */
  stdout: string;
  /** false when the child finished (or failed) on its own before the kill landed. */
  killed: boolean;
  code: number | null;
  stderr: string;
}

export interface KillPlan {
  /** The child is armed once its stdout contains this. */
  armOn: string;
  /** How long after arming the SIGKILL lands. */
  delayMs: () => number;
}

/**
 * Runs a TypeScript helper in its own process (unlocking with the test passphrase) and SIGKILLs
 * it at a chosen moment: the shared harness of the kill tests.
 */
export function runAndKill(script: string, args: readonly string[], plan: KillPlan): Promise<KilledRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, BULKHEAD_PASSPHRASE: TEST_PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let armed = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!armed && stdout.includes(plan.armOn)) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), plan.delayMs());
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => resolve({ stdout, killed: signal === 'SIGKILL', code, stderr }));
  });
}

/** The lines a child printed, without the empty tail. */
export function linesOf(run: KilledRun): string[] {
  return run.stdout.trim().split('\n').filter(Boolean);
}
