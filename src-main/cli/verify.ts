import path from 'node:path';
import type { Command } from 'commander';
import { pathToCreate } from './options.js';
import { terminalJson, terminalText } from './terminal.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { runIsolationCheck, writeIsolationReport } from '../verify/isolation.js';
import { unlock, wrap, type Action } from './context.js';

const verify =
  (appVersion: string): Action =>
  async (vault, opts) => {
    await unlock(vault);
    const report = await runIsolationCheck(vault, { appVersion, onProgress: (m) => process.stderr.write(`verify: ${terminalText(m)}\n`) });
    const { out } = opts as { out?: string };
    const dir = out ? path.resolve(out) : path.join(vault.paths.dataDir, 'reports');
    const files = writeIsolationReport(report, dir);
    const lines = report.controls.map(
      (c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.title} (${c.attempts} attempts)${c.findings.map((f) => `\n      ${f}`).join('')}`,
    );
    const text = [
      `Isolation self-test of ${report.tenants} tenants`,
      ...lines,
      `report: ${files.html}`,
      `        ${files.json}`,
      `sha256: ${report.sha256}`,
    ].join('\n');
    if (!report.passed) {
      process.stdout.write(`${opts.json ? terminalJson({ report, files }) : terminalText(text)}\n`);
      const failed = report.controls.filter((c) => !c.pass).length;
      throw new BulkheadError('ISOLATION_FAILED', `${failed} of ${report.controls.length} isolation controls failed; see ${files.html}`);
    }
    return { json: { report, files }, text };
  };

export function registerVerifyCommand(program: Command, appVersion: string): void {
  program
    .command('verify')
    .description('isolation self-test of this data folder: a canary planted in a scratch tenant must not reach any other')
    .option('--out <dir>', "where to write the report (JSON and HTML); default: the data folder's reports/", pathToCreate('--out', 'folder'))
    .action(wrap(verify(appVersion)));
}
