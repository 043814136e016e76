import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { writeFileAtomic } from '../vault/paths.js';
import type { Vault } from '../vault/vault.js';

/** The OS keychain as Electron's safeStorage offers it; absent on the web host and the CLI. */
export interface KeychainBackend {
  /** safeStorage's backend name on Linux ('gnome_libsecret', 'kwallet6', 'basic_text', …); the OS name elsewhere. */
  backend(): string;
  isAvailable(): boolean;
  encrypt(text: string): Buffer;
  decrypt(blob: Buffer): string;
}

/** Backends that do not protect anything: Chromium's basic_text uses a hard-coded password. */
const REFUSED = new Set(['basic_text', 'unknown']);

const KeychainFile = z
  .object({
    format: z.literal('bulkhead-keychain'),
    version: z.literal(1),
    backend: z.string(),
    blob: z.string(),
    check: z.string(),
  })
  .strict();

export interface KeychainStatus {
  supported: boolean;
  enabled: boolean;
  /** Why it cannot be used, in words for the user. */
  reason: string | null;
}

/**
 * "Unlock with my login": the master key, encrypted by the OS keychain, in keychain.json beside
 * the keyring. Opt-in, refused on a backend that protects nothing, and never silently redone
 * when the backend changes: then the passphrase is needed again.
 */
export class Keychain {
  readonly file: string;

  constructor(
    dataDir: string,
    private readonly os: KeychainBackend | null,
  ) {
    this.file = path.join(dataDir, 'keychain.json');
  }

  status(): KeychainStatus {
    const enabled = fs.existsSync(this.file);
    if (!this.os) return { supported: false, enabled, reason: 'the system keychain is only available in the desktop app' };
    if (!this.os.isAvailable()) return { supported: false, enabled, reason: 'no system keychain is available' };
    if (REFUSED.has(this.os.backend()))
      return { supported: false, enabled, reason: 'this system keychain stores secrets unprotected (basic_text); use the passphrase' };
    return { supported: true, enabled, reason: null };
  }

  enable(vault: Vault): void {
    const os = this.#usable();
    const { master, check } = vault.exportForKeychain();
    try {
      const blob = os.encrypt(master.toString('hex'));
      writeFileAtomic(
        this.file,
        JSON.stringify({ format: 'bulkhead-keychain', version: 1, backend: os.backend(), blob: blob.toString('base64'), check: check.toString('base64') }),
      );
    } finally {
      master.fill(0);
    }
  }

  disable(): void {
    fs.rmSync(this.file, { force: true });
  }

  unlock(vault: Vault): void {
    const os = this.#usable();
    const stored = this.#read();
    if (stored.backend !== os.backend()) {
      throw new BulkheadError(
        'UNAVAILABLE',
        `the system keychain changed (${stored.backend} → ${os.backend()}); unlock with the passphrase and turn keychain unlock on again`,
      );
    }
    let hex: string;
    try {
      hex = os.decrypt(Buffer.from(stored.blob, 'base64'));
    } catch {
      throw new BulkheadError('UNAVAILABLE', 'the system keychain could not decrypt the stored key; unlock with the passphrase');
    }
    const master = Buffer.from(hex, 'hex');
    try {
      vault.unlockWithKeychainKey(master, Buffer.from(stored.check, 'base64'));
    } finally {
      master.fill(0);
    }
  }

  #usable(): KeychainBackend {
    const st = this.status();
    if (!st.supported || !this.os) throw new BulkheadError('UNAVAILABLE', st.reason ?? 'no system keychain');
    return this.os;
  }

  #read(): z.infer<typeof KeychainFile> {
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(this.file, 'utf8'));
    } catch {
      throw new BulkheadError('UNAVAILABLE', 'keychain unlock is not turned on for this vault');
    }
    const parsed = KeychainFile.safeParse(json);
    if (!parsed.success) throw new BulkheadError('KEYRING_CORRUPT', 'keychain.json is damaged; unlock with the passphrase');
    return parsed.data;
  }
}
