import crypto from 'node:crypto';
import fs from 'node:fs';
import argon2 from 'argon2';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { writeFileAtomic } from './paths.js';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** iv | tag | ciphertext of a 32-byte key. */
export const WRAPPED_KEY_BYTES = IV_BYTES + TAG_BYTES + KEY_BYTES;

export const KdfParams = z
  .object({
    algorithm: z.literal('argon2id'),
    memoryKiB: z
      .number()
      .int()
      .min(8192)
      .max(4 * 1024 * 1024),
    iterations: z.number().int().min(1).max(64),
    parallelism: z.number().int().min(1).max(16),
    salt: z.string().regex(/^[A-Za-z0-9+/]{22}==$/, 'a 16-byte base64 salt'),
  })
  .strict();
export type KdfParams = z.infer<typeof KdfParams>;

/** RFC 9106's second recommended option (64 MiB, 3 passes), with one lane for two-core laptops. */
export const DEFAULT_KDF: Omit<KdfParams, 'salt'> = { algorithm: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1 };

const KeyringFile = z
  .object({
    format: z.literal('bulkhead-keyring'),
    version: z.literal(1),
    createdAt: z.string(),
    kdf: KdfParams,
    // The master key is random and wrapped by the passphrase key, so changing the passphrase
    // rewrites this file only, never a tenant.
    wrappedMasterKey: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
  })
  .strict();
type KeyringFile = z.infer<typeof KeyringFile>;

const MASTER_AAD = 'bulkhead/master-key/v1';
const REGISTRY_INFO = 'bulkhead/registry-key/v1';
const KEYCHAIN_CHECK = 'bulkhead/keychain-check/v1';
const APP_SECRETS_INFO = 'bulkhead/app-secrets-key/v1';

export function randomKey(): Buffer {
  // Not from Buffer's shared pool: the whole buffer is ours to zero.
  const key = Buffer.alloc(KEY_BYTES);
  crypto.randomFillSync(key);
  return key;
}

export function wrapKey(kek: Buffer, key: Buffer, aad: string): Buffer {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

/** Returns the key, or null when the wrapping key or the additional data do not match. */
export function unwrapKey(kek: Buffer, wrapped: Buffer, aad: string): Buffer | null {
  if (wrapped.length !== WRAPPED_KEY_BYTES) return null;
  const decipher = crypto.createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const out = Buffer.alloc(KEY_BYTES);
  try {
    const head = decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES));
    head.copy(out);
    head.fill(0);
    decipher.final();
    return out;
  } catch {
    out.fill(0);
    return null;
  }
}

/** Binds a wrapped data key to its tenant and key version: a key moved to another slot fails. */
export function tenantKeyAad(tenantId: string, keyVersion: number): string {
  return `bulkhead/tenant-key/v1/${tenantId}/${keyVersion}`;
}

function auditKeyAad(tenantId: string): string {
  return `bulkhead/audit-key/v1/${tenantId}`;
}

/** A fresh salt with the given cost: what a new passphrase-derived key is made from. */
export function newKdfParams(kdf: Omit<KdfParams, 'salt'> = DEFAULT_KDF): KdfParams {
  return KdfParams.parse({ ...kdf, salt: crypto.randomBytes(16).toString('base64') });
}

/** Argon2id of a passphrase: the master key's wrapping key, or an export bundle's root key. */
export async function derivePassphraseKey(passphrase: string, kdf: KdfParams): Promise<Buffer> {
  return deriveKek(passphrase, kdf);
}

async function deriveKek(passphrase: string, kdf: KdfParams): Promise<Buffer> {
  const secret = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  try {
    return await argon2.hash(secret, {
      type: argon2.argon2id,
      raw: true,
      hashLength: KEY_BYTES,
      salt: Buffer.from(kdf.salt, 'base64'),
      memoryCost: kdf.memoryKiB,
      timeCost: kdf.iterations,
      parallelism: kdf.parallelism,
    });
  } finally {
    secret.fill(0);
  }
}

/**
 * The unlocked master key. Only the vault holds one; `destroy` zeroes it and every key
 * derived from it, after which any use throws LOCKED.
 */
export class Keyring {
  #master: Buffer | null;

  private constructor(master: Buffer) {
    this.#master = master;
  }

  static exists(file: string): boolean {
    return fs.existsSync(file);
  }

  static async create(file: string, passphrase: string, kdf: Omit<KdfParams, 'salt'> = DEFAULT_KDF): Promise<Keyring> {
    if (fs.existsSync(file)) throw new BulkheadError('ALREADY_INITIALIZED', 'this data folder already has a keyring');
    const params = KdfParams.parse({ ...kdf, salt: crypto.randomBytes(16).toString('base64') });
    const kek = await deriveKek(passphrase, params);
    const master = randomKey();
    const body: KeyringFile = {
      format: 'bulkhead-keyring',
      version: 1,
      createdAt: new Date().toISOString(),
      kdf: params,
      wrappedMasterKey: wrapKey(kek, master, MASTER_AAD).toString('base64'),
    };
    kek.fill(0);
    writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`);
    return new Keyring(master);
  }

  /** Reads only: a wrong passphrase leaves every byte on disk as it was. */
  static async unlock(file: string, passphrase: string): Promise<Keyring> {
    const body = readKeyringFile(file);
    const kek = await deriveKek(passphrase, body.kdf);
    const master = unwrapKey(kek, Buffer.from(body.wrappedMasterKey, 'base64'), MASTER_AAD);
    kek.fill(0);
    if (!master) throw new BulkheadError('WRONG_PASSPHRASE', 'wrong passphrase');
    return new Keyring(master);
  }

  /**
   * A master key held by the OS keychain (opt-in). It is accepted only with the check value made
   * when it was stored, over this keyring file: a changed passphrase, a restored or replaced
   * keyring, or a key for another vault all fail, and the passphrase is asked for instead.
   */
  static fromKeychain(file: string, master: Buffer, check: Buffer): Keyring {
    const expected = keychainCheck(master, readKeyringFile(file));
    if (master.length !== KEY_BYTES || check.length !== expected.length || !crypto.timingSafeEqual(check, expected)) {
      throw new BulkheadError('WRONG_PASSPHRASE', 'the key in the system keychain does not open this vault; unlock with the passphrase');
    }
    return new Keyring(Buffer.from(master));
  }

  /** A copy of the master key and its check value, for the OS keychain; the caller zeroes the key. */
  exportForKeychain(file: string): { master: Buffer; check: Buffer } {
    const master = Buffer.from(this.#key());
    return { master, check: keychainCheck(master, readKeyringFile(file)) };
  }

  /**
   * Re-wraps the same master key under a new passphrase: only this file changes; the registry
   * and every tenant file stay byte for byte as they were, since their keys hang off the master key.
   */
  async changePassphrase(file: string, passphrase: string, kdf: Omit<KdfParams, 'salt'> = DEFAULT_KDF): Promise<void> {
    const body = readKeyringFile(file);
    const params = newKdfParams(kdf);
    const kek = await deriveKek(passphrase, params);
    try {
      const next: KeyringFile = { ...body, kdf: params, wrappedMasterKey: wrapKey(kek, this.#key(), MASTER_AAD).toString('base64') };
      writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
    } finally {
      kek.fill(0);
    }
  }

  static readParams(file: string): KdfParams {
    return readKeyringFile(file).kdf;
  }

  get destroyed(): boolean {
    return this.#master === null;
  }

  wrapTenantKey(tenantId: string, keyVersion: number, dataKey: Buffer): Buffer {
    return wrapKey(this.#key(), dataKey, tenantKeyAad(tenantId, keyVersion));
  }

  unwrapTenantKey(tenantId: string, keyVersion: number, wrapped: Buffer): Buffer {
    const key = unwrapKey(this.#key(), wrapped, tenantKeyAad(tenantId, keyVersion));
    if (!key) throw new BulkheadError('TENANT_KEY_REJECTED', 'the stored key of this tenant does not belong to it or was altered');
    return key;
  }

  /** The tenant's audit MAC key, wrapped like its data key but under its own label. */
  wrapAuditKey(tenantId: string, auditKey: Buffer): Buffer {
    return wrapKey(this.#key(), auditKey, auditKeyAad(tenantId));
  }

  unwrapAuditKey(tenantId: string, wrapped: Buffer): Buffer {
    const key = unwrapKey(this.#key(), wrapped, auditKeyAad(tenantId));
    if (!key) throw new BulkheadError('TENANT_KEY_REJECTED', 'the stored audit key of this tenant does not belong to it or was altered');
    return key;
  }

  /** The registry's database key, derived so that it needs no storage of its own. */
  registryKey(): Buffer {
    return Buffer.from(crypto.hkdfSync('sha256', this.#key(), Buffer.alloc(0), REGISTRY_INFO, KEY_BYTES));
  }

  /** Seals an app-wide secret (a model API key) under a key derived from the master key. */
  sealAppSecret(purpose: string, secret: string): string {
    const key = this.#appSecretsKey();
    try {
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(`${APP_SECRETS_INFO}/${purpose}`, 'utf8'));
      const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
    } finally {
      key.fill(0);
    }
  }

  /** The secret sealed for `purpose`, or null when it was altered or sealed by another vault. */
  openAppSecret(purpose: string, sealed: string): string | null {
    const raw = Buffer.from(sealed, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) return null;
    const key = this.#appSecretsKey();
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${APP_SECRETS_INFO}/${purpose}`, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    } finally {
      key.fill(0);
    }
  }

  #appSecretsKey(): Buffer {
    return Buffer.from(crypto.hkdfSync('sha256', this.#key(), Buffer.alloc(0), APP_SECRETS_INFO, KEY_BYTES));
  }

  destroy(): void {
    this.#master?.fill(0);
    this.#master = null;
  }

  #key(): Buffer {
    if (!this.#master) throw new BulkheadError('LOCKED', 'the vault is locked');
    return this.#master;
  }
}

function keychainCheck(master: Buffer, body: KeyringFile): Buffer {
  return crypto.createHmac('sha256', master).update(KEYCHAIN_CHECK).update(body.wrappedMasterKey).digest();
}

function readKeyringFile(file: string): KeyringFile {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BulkheadError('NOT_INITIALIZED', 'no vault in this data folder yet: run `bulkhead init` first');
    }
    throw new BulkheadError('IO_ERROR', `cannot read the keyring: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new BulkheadError('KEYRING_CORRUPT', 'the keyring file is damaged (not valid JSON)', { cause: err });
  }
  const parsed = KeyringFile.safeParse(json);
  if (!parsed.success) throw new BulkheadError('KEYRING_CORRUPT', 'the keyring file is damaged or from an unknown version');
  return parsed.data;
}
