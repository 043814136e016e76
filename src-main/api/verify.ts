import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IsolationReport } from '../../src-shared/contract.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { runIsolationCheck, writeIsolationReport } from '../verify/isolation.js';
import type { ConsoleSession } from './session.js';

/** package.json's version; the source runs two folders below it, the build (dist/) three. */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    const file = fileURLToPath(new URL(up, import.meta.url));
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
const appVersion = packageVersion();

/**
 * Runs the isolation self-test from the console. It works in its own vault sessions, so the
 * console's open tenant stays open; the report goes where `bulkhead verify` puts it.
 */
export async function runVerify(s: ConsoleSession, emit: (e: { type: 'progress'; message: string }) => void): Promise<IsolationReport> {
  if (s.vault.state !== 'unlocked') throw new BulkheadError('LOCKED', 'the vault is locked');
  s.authority().use('verify');
  const report = await runIsolationCheck(s.vault, { appVersion, onProgress: (message) => emit({ type: 'progress', message }) });
  const files = writeIsolationReport(report, path.join(s.vault.paths.dataDir, 'reports'));
  const { appVersion: version, startedAt, finishedAt, tenants, controls, passed, sha256 } = report;
  return { appVersion: version, startedAt, finishedAt, tenants, controls, passed, sha256, files };
}
