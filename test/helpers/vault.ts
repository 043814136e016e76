import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Vault } from '../../src-main/vault/vault.js';

/** Cheap Argon2id for tests only; the product always uses DEFAULT_KDF. */
export const TEST_KDF = { algorithm: 'argon2id', memoryKiB: 8192, iterations: 1, parallelism: 1 } as const;
export const TEST_PASSPHRASE = 'correct horse battery staple';

export function tempDir(prefix = 'bulkhead-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freshVault(dataDir = tempDir()): Promise<Vault> {
  const vault = new Vault(dataDir);
  await vault.initialize(TEST_PASSPHRASE, { kdf: TEST_KDF });
  return vault;
}

/** sha256 of every file under a folder, by relative path: "changed no byte" made checkable. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export function filesUnder(dir: string): string[] {
  return Object.keys(hashTree(dir)).sort();
}
