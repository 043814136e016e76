import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { invokeCall, invokeStream } from '../../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../../src-main/api/session.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

let s: ConsoleSession;
let first: string;

beforeEach(async () => {
  s = new ConsoleSession({ dataDir: tempDir(), kdf: TEST_KDF });
  await invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE });
  first = ((await invokeCall(s, 'tenants.create', { name: 'Alpha Ltd' })) as { value: { id: string } }).value.id;
  await invokeCall(s, 'tenants.create', { name: 'Beta GmbH' });
  await invokeCall(s, 'tenants.open', { tenantId: first });
});
afterEach(() => s.dispose());

const run = (events: unknown[] = []) => invokeStream(s, 'verify.run', {}, (e) => events.push(e), new AbortController().signal);

describe('verify.run', () => {
  it('passes on a vault with two tenants, writes the report and leaves the open tenant open', async () => {
    const events: unknown[] = [];
    const r = await run(events);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const report = r.value as { passed: boolean; tenants: number; controls: { pass: boolean }[]; sha256: string; files: { json: string; html: string } };
    expect(report.passed).toBe(true);
    expect(report.tenants).toBe(2);
    expect(report.controls.length).toBeGreaterThan(3);
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.existsSync(report.files.json) && fs.existsSync(report.files.html)).toBe(true);
    expect(events.length).toBeGreaterThan(0);
    const status = await invokeCall(s, 'vault.status', {});
    expect(status).toMatchObject({ ok: true, value: { tenant: { id: first } } });
    expect(await invokeCall(s, 'documents.list', {})).toMatchObject({ ok: true });
  });

  it('is refused in presentation mode and when locked', async () => {
    await invokeCall(s, 'presentation.enter', { tenantId: first });
    expect(await run()).toMatchObject({ ok: false, error: { code: 'PRESENTATION_MODE' } });
    await invokeCall(s, 'presentation.exit', { passphrase: TEST_PASSPHRASE });
    await invokeCall(s, 'vault.lock', {});
    expect(await run()).toMatchObject({ ok: false, error: { code: 'LOCKED' } });
  });
});
