import crypto from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { TenantId } from '../../src-shared/tenant.js';
import { DEFAULT_KDF, derivePassphraseKey, KdfParams, KEY_BYTES } from './keyring.js';

/**
 * An export bundle is one file:
 *   "BULKHEAD-BUNDLE\n" | u32 header length | header JSON | tenant database
 * The header holds the KDF parameters, a passphrase check value and the manifest, sealed with
 * AES-256-GCM; the database is the tenant's file re-keyed under a key from the same passphrase.
 * Nothing readable without the passphrase names the client.
 */
export const BUNDLE_MAGIC = Buffer.from('BULKHEAD-BUNDLE\n', 'ascii');
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

const Digest = z.object({ rows: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

export const BundleManifest = z
  .object({
    createdAt: z.string(),
    tenant: z.object({ id: TenantId, name: z.string().min(1).max(200), createdAt: z.string() }).strict(),
    schemaVersion: z.number().int().min(1),
    db: z.object({ bytes: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
    tables: z.record(z.string(), Digest),
    audit: z
      .object({
        key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
        head: z
          .object({ seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) })
          .strict()
          .nullable(),
      })
      .strict(),
  })
  .strict();
export type BundleManifest = z.infer<typeof BundleManifest>;

const SealedBox = z.object({ iv: z.string(), tag: z.string(), data: z.string() }).strict();
const BundleHeader = z
  .object({ format: z.literal('bulkhead-bundle'), version: z.literal(1), kdf: KdfParams, check: z.string().regex(/^[0-9a-f]{64}$/), manifest: SealedBox })
  .strict();
type BundleHeader = z.infer<typeof BundleHeader>;

/** The keys of one bundle, all from one Argon2id derivation of the export passphrase. */
export class BundleKeys {
  private constructor(
    readonly db: Buffer,
    private readonly manifest: Buffer,
    readonly check: string,
  ) {}

  static async derive(passphrase: string, kdf: KdfParams): Promise<BundleKeys> {
    const root = await derivePassphraseKey(passphrase, kdf);
    try {
      const sub = (info: string): Buffer => Buffer.from(crypto.hkdfSync('sha256', root, Buffer.alloc(0), info, KEY_BYTES));
      const checkKey = sub('bulkhead/bundle/check/v1');
      const check = crypto.createHmac('sha256', checkKey).update('bulkhead-bundle-v1').digest('hex');
      checkKey.fill(0);
      return new BundleKeys(sub('bulkhead/bundle/db/v1'), sub('bulkhead/bundle/manifest/v1'), check);
    } finally {
      root.fill(0);
    }
  }

  seal(manifest: BundleManifest, aad: string): z.infer<typeof SealedBox> {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.manifest, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const data = Buffer.concat([cipher.update(JSON.stringify(manifest), 'utf8'), cipher.final()]);
    return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  open(box: z.infer<typeof SealedBox>, aad: string): BundleManifest {
    let text: string;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.manifest, Buffer.from(box.iv, 'base64'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(box.tag, 'base64'));
      text = Buffer.concat([decipher.update(Buffer.from(box.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new BulkheadError('BUNDLE_INVALID', 'the bundle manifest was altered (it fails authentication)');
    }
    const parsed = BundleManifest.safeParse(JSON.parse(text));
    if (!parsed.success) throw new BulkheadError('BUNDLE_INVALID', 'the bundle manifest is not one this version understands');
    return parsed.data;
  }

  destroy(): void {
    this.db.fill(0);
    this.manifest.fill(0);
  }
}

/** The header fields the sealed manifest is bound to, so none of them can be swapped. */
function headerAad(h: Pick<BundleHeader, 'format' | 'version' | 'kdf' | 'check'>): string {
  return JSON.stringify([h.format, h.version, h.kdf.algorithm, h.kdf.memoryKiB, h.kdf.iterations, h.kdf.parallelism, h.kdf.salt, h.check]);
}

export function encodeHeader(keys: BundleKeys, kdf: KdfParams, manifest: BundleManifest): Buffer {
  const fixed = { format: 'bulkhead-bundle' as const, version: 1 as const, kdf, check: keys.check };
  const header: BundleHeader = { ...fixed, manifest: keys.seal(manifest, headerAad(fixed)) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([BUNDLE_MAGIC, len, json]);
}

export interface OpenedBundle {
  manifest: BundleManifest;
  keys: BundleKeys;
  /** Where the database starts in the bundle file. */
  dbOffset: number;
}

/** How far above this vault's own key-derivation cost (or the default, if higher) a bundle may ask. */
export const BUNDLE_KDF_FACTOR = 4;

export type KdfCost = Pick<KdfParams, 'memoryKiB' | 'iterations' | 'parallelism'>;

/**
 * A bundle's header names its own key-derivation cost, and it is read before the passphrase can
 * be checked: unbounded, a crafted header (4 GiB, 64 passes) holds gigabytes for minutes. The
 * most a bundle may ask is BUNDLE_KDF_FACTOR times the larger of this vault's cost and the
 * default one bundles are written with; above that it is refused before anything is derived.
 */
export function refuseCostlyKdf(kdf: KdfCost, vaultKdf: KdfCost | undefined): void {
  const own = vaultKdf ?? DEFAULT_KDF;
  const cap = (key: keyof KdfCost): number => BUNDLE_KDF_FACTOR * Math.max(own[key], DEFAULT_KDF[key]);
  for (const key of ['memoryKiB', 'iterations', 'parallelism'] as const) {
    if (kdf[key] > cap(key)) {
      throw new BulkheadError('BUNDLE_INVALID', `the bundle asks for a key-derivation cost above what this vault accepts (${key} ${kdf[key]} > ${cap(key)})`);
    }
  }
}

/** Reads and authenticates a bundle's header; touches nothing else. `vaultKdf` bounds what the header may ask. */
export async function openBundle(file: string, passphrase: string, vaultKdf?: KdfCost): Promise<OpenedBundle> {
  const { header, dbOffset } = readHeader(file);
  refuseCostlyKdf(header.kdf, vaultKdf);
  const keys = await BundleKeys.derive(passphrase, header.kdf);
  if (!crypto.timingSafeEqual(Buffer.from(keys.check, 'hex'), Buffer.from(header.check, 'hex'))) {
    keys.destroy();
    throw new BulkheadError('WRONG_PASSPHRASE', 'wrong export passphrase for this bundle');
  }
  try {
    const manifest = keys.open(header.manifest, headerAad(header));
    return { manifest, keys, dbOffset };
  } catch (err) {
    keys.destroy();
    throw err;
  }
}

function readHeader(file: string): { header: BundleHeader; dbOffset: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BulkheadError(code === 'ENOENT' ? 'INPUT_INVALID' : 'IO_ERROR', `cannot read the bundle (${code ?? 'error'})`);
  }
  try {
    const head = Buffer.alloc(BUNDLE_MAGIC.length + 4);
    if (fs.readSync(fd, head, 0, head.length, 0) !== head.length || !head.subarray(0, BUNDLE_MAGIC.length).equals(BUNDLE_MAGIC)) {
      throw new BulkheadError('BUNDLE_INVALID', 'this file is not a Bulkhead export bundle');
    }
    const len = head.readUInt32BE(BUNDLE_MAGIC.length);
    if (len > MAX_HEADER_BYTES) throw new BulkheadError('BUNDLE_INVALID', 'the bundle header is implausibly large');
    const json = Buffer.alloc(len);
    if (fs.readSync(fd, json, 0, len, head.length) !== len) throw new BulkheadError('BUNDLE_INVALID', 'the bundle is cut short in its header');
    let parsed;
    try {
      parsed = BundleHeader.safeParse(JSON.parse(json.toString('utf8')));
    } catch {
      throw new BulkheadError('BUNDLE_INVALID', 'the bundle header is damaged');
    }
    if (!parsed.success) throw new BulkheadError('BUNDLE_INVALID', 'the bundle header is damaged or from an unknown version');
    return { header: parsed.data, dbOffset: head.length + len };
  } finally {
    fs.closeSync(fd);
  }
}
