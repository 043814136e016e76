import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../../src-main/vault/vault.js';
import { tempDir } from '../../helpers/vault.js';

const BIN = path.resolve('bin/bulkhead.js');
const PASS = 'cli lifecycle passphrase';
const EXPORT_PASS = 'cli export passphrase';
const TENANTS = [
  { name: 'Zephyr Logistics', canary: 'canary-zephyr-88317' },
  { name: 'Quillon Bank', canary: 'canary-quillon-40213' },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_PASSPHRASE: PASS, BULKHEAD_EXPORT_PASSPHRASE: EXPORT_PASS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], env: Record<string, string> = {}): string {
  const r = cli(args, env);
  expect(r, `${args.join(' ')}: ${r.stderr}`).toMatchObject({ code: 0 });
  return r.stdout;
}

function logText(dataDir: string): string {
  const dir = path.join(dataDir, 'logs');
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}

describe('client lifecycle from the command line', () => {
  it('audit, rekey, export, import, backup, restore, passphrase change, delete; the logs hold no name, content or secret', async () => {
    const root = tempDir();
    const a = path.join(root, 'laptop-a');
    const b = path.join(root, 'laptop-b');
    const r = path.join(root, 'restored');
    ok(['--data-dir', a, 'init']);
    const ids: string[] = [];
    for (const t of TENANTS) {
      ids.push(JSON.parse(ok(['--data-dir', a, '--json', 'tenant', 'create', t.name])).id as string);
      const docs = path.join(root, `docs-${ids.length}`);
      fs.mkdirSync(docs);
      fs.writeFileSync(path.join(docs, 'brief.md'), `# Brief\n\n${t.canary} is the codename of the merger.\n`);
      ok(['--data-dir', a, 'ingest', '--tenant', t.name, docs]);
      expect(ok(['--data-dir', a, 'search', '--tenant', t.name, t.canary])).toContain(t.canary);
    }
    const [zephyr, quillon] = TENANTS;

    // The audit trail lists ids, hashes and counts, and verifies.
    const records = JSON.parse(ok(['--data-dir', a, '--json', 'audit', 'list', '--tenant', zephyr!.name])) as { kind: string }[];
    expect(records.map((x) => x.kind)).toEqual(expect.arrayContaining(['tenant.open', 'ingest', 'search']));
    expect(JSON.stringify(records)).not.toContain(zephyr!.canary);
    expect(ok(['--data-dir', a, 'audit', 'verify', '--tenant', zephyr!.name])).toMatch(/verifies: \d+ records/);

    expect(ok(['--data-dir', a, 'tenant', 'rekey', zephyr!.name])).toMatch(/key version 1 -> 2/);
    const bundle = path.join(root, 'zephyr.bundle');
    ok(['--data-dir', a, 'export', '--tenant', zephyr!.name, '--out', bundle]);
    ok(['--data-dir', b, 'init']);
    expect(cli(['--data-dir', b, 'import', bundle], { BULKHEAD_EXPORT_PASSPHRASE: 'wrong export passphrase' }).code).toBe(3);
    ok(['--data-dir', b, 'import', bundle]);
    expect(cli(['--data-dir', b, 'import', bundle]).code).toBe(6);
    expect(ok(['--data-dir', b, 'search', '--tenant', zephyr!.name, zephyr!.canary])).toContain(zephyr!.canary);
    expect(ok(['--data-dir', b, 'audit', 'verify', '--tenant', zephyr!.name])).toMatch(/verifies/);

    ok(['--data-dir', a, 'backup', '--out', path.join(root, 'backup')]);
    ok(['--data-dir', r, 'restore', path.join(root, 'backup')]);
    ok(['--data-dir', r, 'passphrase', 'change'], { BULKHEAD_NEW_PASSPHRASE: 'the new vault passphrase' });
    expect(cli(['--data-dir', r, 'tenant', 'list']).code).toBe(3);
    expect(ok(['--data-dir', r, 'search', '--tenant', quillon!.name, quillon!.canary], { BULKHEAD_PASSPHRASE: 'the new vault passphrase' })).toContain(
      quillon!.canary,
    );

    // Tampering is named, with exit code 5.
    const vault = new Vault(a);
    await vault.unlock(PASS);
    const t = vault.openSession().open(ids[1]!);
    t.db.exec("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET data = json_object('tampered', 1) WHERE seq = 2");
    vault.lock();
    const broken = cli(['--data-dir', a, 'audit', 'verify', '--tenant', quillon!.name]);
    expect(broken.code).toBe(5);
    expect(broken.stderr).toMatch(/broken at record 2: record 2 does not match its MAC.*\[AUDIT_BROKEN\]/);

    const receipt = JSON.parse(ok(['--data-dir', a, '--json', 'tenant', 'delete', quillon!.name, '--yes']));
    expect(receipt).toMatchObject({ tenantId: ids[1], keyDestroyed: true, filesRemoved: [`${ids[1]}.bulkhead`] });
    expect(cli(['--data-dir', a, 'audit', 'verify', '--tenant', quillon!.name]).code).toBe(4);

    // The app logs: written, rotating files of opaque ids; no name, no content, no passphrase.
    const logs = [a, b, r].map(logText).join('\n');
    expect(logs).toContain(ids[0]);
    expect(logs).toMatch(/"msg":"tenant.rekey"/);
    expect(logs).toMatch(/"msg":"tenant.export"/);
    expect(logs).toMatch(/"msg":"tenant.import"/);
    expect(logs).toMatch(/"msg":"vault.backup"/);
    expect(logs).toMatch(/"msg":"tenant.delete"/);
    for (const secret of [
      ...TENANTS.flatMap((x) => [x.name, x.canary, ...x.name.split(' ')]),
      PASS,
      EXPORT_PASS,
      'the new vault passphrase',
      'codename',
      'merger',
    ]) {
      expect(logs.includes(secret), `log mentions ${secret}`).toBe(false);
    }
  });
});
