import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => path.join(dir, f));
}

const INTERNALS = ['mintTenantHandle', 'closeTenantHandle', 'tenantDataKey', 'deriveAuditKey', 'derivePassphraseKey', 'BundleKeys'];
// Vault functions that use a tenant's audit key (without handing it out): the audit chain only.
const AUDIT_INTERNALS = ['auditMac', 'externalAuditHead', 'advanceExternalAuditHead'];

describe('architecture', () => {
  it('only the vault mints, closes or reads the key of a TenantHandle', () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles('src-main'), ...sourceFiles('src-shared'), ...sourceFiles('src-renderer'), ...sourceFiles('bench')]) {
      if (file.startsWith(`src-main${path.sep}vault${path.sep}`)) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const name of INTERNALS) {
        // The retrieval benchmark's unencrypted baseline: a decrypted copy of a tenant file, searched
        // by the product's own functions. One file of benchmark code, never shipped.
        if (name !== 'closeTenantHandle' && file === path.join('bench', 'retrieval', 'internals.ts')) continue;
        if (text.includes(name)) offenders.push(`${file} uses ${name}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('only the audit chain computes audit MACs or moves the audit head kept in the registry', () => {
    const offenders: string[] = [];
    const allowed = path.join('src-main', 'vault', 'audit-chain.ts');
    for (const file of [...sourceFiles('src-main'), ...sourceFiles('src-shared'), ...sourceFiles('src-renderer'), ...sourceFiles('bench')]) {
      if (file.startsWith(`src-main${path.sep}vault${path.sep}`) || file === allowed) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const name of AUDIT_INTERNALS) if (text.includes(name)) offenders.push(`${file} uses ${name}`);
    }
    expect(offenders).toEqual([]);
  });

  it('src-shared imports neither Node, Electron, the DOM nor the main process', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles('src-shared')) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || spec === 'electron' || spec.includes('src-main') || spec.includes('src-renderer'))
          offenders.push(`${file} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
