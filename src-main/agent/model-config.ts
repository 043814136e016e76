import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { writeFileAtomic } from '../vault/paths.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Vault } from '../vault/vault.js';

// The vault-wide model settings: one 0600 JSON file in the data folder. Since version 2 they are
// only the defaults that prefill a NEW tenant's chat model (endpoint, model name, limits; never an
// API key): what a tenant uses, and its key, are the tenant's own (tenant-model.ts). The
// environment variables override these defaults, and nothing else.
//
// Migration from version 1, where this file was the one endpoint every tenant used and held the
// API key sealed with the vault's master key: the first time this version reads it with the vault
// unlocked, it records the tenants that exist then; each of them, when next opened, gets a one-time
// copy of the old settings (key included: that tenant used it before) into its own file, and the
// old key is dropped from this file once every one of them has its copy. A tenant created or
// imported afterwards never gets it.

export const CONFIG_FILE = 'model.json';
export const API_KEY_PURPOSE = 'model.apiKey';

export const BaseUrl = z.url({ protocol: /^https?$/, error: 'model.baseUrl must be an http(s) URL, e.g. http://127.0.0.1:11434/v1' });
export const ModelName = z.string().trim().min(1, 'model.name cannot be empty').max(200, 'model.name can be at most 200 characters');
export const ApiKey = z.string().trim().min(1, 'model.apiKey cannot be empty').max(500, 'model.apiKey can be at most 500 characters');
export const ContextTokens = z.coerce.number().int().min(1024, 'model.contextTokens must be at least 1024').max(2_000_000);
export const TimeoutMs = z.coerce.number().int().min(100, 'model.timeoutMs must be at least 100').max(3_600_000);

const Legacy = z
  .object({
    baseUrl: BaseUrl,
    name: ModelName,
    apiKeySealed: z.string().max(2000).optional(),
    contextTokens: ContextTokens.optional(),
    timeoutMs: TimeoutMs.optional(),
    /** The tenants that existed when this version first ran and have not had their copy yet. */
    tenants: z.array(z.string().max(100)).max(100_000),
  })
  .strict();
export type LegacyModelConfig = z.infer<typeof Legacy>;

const StoredConfig = z
  .object({
    version: z.literal(2).optional(),
    baseUrl: BaseUrl.optional(),
    name: ModelName.optional(),
    /** Version 1 only: read once by the migration, never written again. */
    apiKeySealed: z.string().max(2000).optional(),
    contextTokens: ContextTokens.optional(),
    timeoutMs: TimeoutMs.optional(),
    legacy: Legacy.optional(),
  })
  .strict();
type StoredConfig = z.infer<typeof StoredConfig>;

/** The keys `bulkhead config set` accepts: the defaults a new tenant's chat model is prefilled with. */
export const CONFIG_KEYS = ['model.baseUrl', 'model.name', 'model.contextTokens', 'model.timeoutMs'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** A usable endpoint: what the provider needs to make a call. */
export interface ModelConfig {
  baseUrl: string;
  name: string;
  apiKey: string | null;
  /** The model's context window, for the token budget. */
  contextTokens: number;
  /** Time allowed for the response to start, and between two streamed chunks. */
  timeoutMs: number;
  maxRetries: number;
  /** Set when the tenant chose a built-in model: the calls stay in this process (models/). */
  builtin?: import('./provider.js').BuiltinBinding;
}

export const DEFAULT_CONTEXT_TOKENS = 8192;
export const DEFAULT_TIMEOUT_MS = 60_000;

/** What `config show` prints: the defaults for new tenants. */
export interface ConfigView {
  'model.baseUrl': string | null;
  'model.name': string | null;
  'model.contextTokens': number;
  'model.timeoutMs': number;
  /** Which settings come from environment variables. */
  fromEnvironment: string[];
  /** Tenants still waiting for their one-time copy of the version-1 settings. */
  migrationPending: number;
}

function configPath(vault: Vault): string {
  return path.join(vault.paths.dataDir, CONFIG_FILE);
}

function readStored(vault: Vault): StoredConfig {
  let raw: string;
  try {
    raw = fs.readFileSync(configPath(vault), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 2 };
    throw new BulkheadError('IO_ERROR', `cannot read the model settings: ${(err as Error).message}`, { cause: err });
  }
  let parsed;
  try {
    parsed = StoredConfig.safeParse(JSON.parse(raw));
  } catch {
    parsed = null;
  }
  if (!parsed?.success) throw new BulkheadError('INPUT_INVALID', `the model settings file ${CONFIG_FILE} is damaged; remove it or set the values again`);
  return parsed.data;
}

function writeStored(vault: Vault, config: StoredConfig): void {
  vault.paths.ensureDirs();
  writeFileAtomic(configPath(vault), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * The file in version 2, upgrading a version-1 file once (the vault must be unlocked: the upgrade
 * records the tenants that exist now). A version-1 file with a usable endpoint becomes the
 * migration's `legacy` record; its key never stays outside it.
 */
function upgraded(vault: Vault): StoredConfig {
  const stored = readStored(vault);
  if (stored.version === 2) return stored;
  if (vault.state !== 'unlocked') throw new BulkheadError('LOCKED', 'the vault is locked: unlock it to read the model settings');
  const { apiKeySealed, ...rest } = stored;
  const next: StoredConfig = { ...rest, version: 2 };
  if (stored.baseUrl && stored.name) {
    next.legacy = {
      baseUrl: stored.baseUrl,
      name: stored.name,
      ...(apiKeySealed ? { apiKeySealed } : {}),
      ...(stored.contextTokens ? { contextTokens: stored.contextTokens } : {}),
      ...(stored.timeoutMs ? { timeoutMs: stored.timeoutMs } : {}),
      tenants: vault.listTenants().map((t) => t.id),
    };
  }
  writeStored(vault, next);
  return next;
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BulkheadError('INPUT_INVALID', r.error.issues[0]?.message ?? 'invalid value');
  return r.data;
}

/** The key, or INPUT_INVALID naming what is wrong (an API key is a tenant's, never the vault's). */
export function checkConfigKey(key: string): ConfigKey {
  if (key === 'model.apiKey') {
    throw new BulkheadError(
      'INPUT_INVALID',
      'an API key belongs to one tenant, not to the vault: bulkhead model set --tenant NAME --base-url URL --model NAME --api-key-env VAR',
    );
  }
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw new BulkheadError('INPUT_INVALID', `unknown setting "${key}"; known: ${CONFIG_KEYS.join(', ')}`);
  return key as ConfigKey;
}

/** Sets one default for new tenants (the vault must be unlocked, for a version-1 file's upgrade). */
export function setConfigValue(vault: Vault, keyInput: string, value: string): void {
  const key = checkConfigKey(keyInput);
  const stored = upgraded(vault);
  switch (key) {
    case 'model.baseUrl':
      stored.baseUrl = parseOrThrow(BaseUrl, value);
      break;
    case 'model.name':
      stored.name = parseOrThrow(ModelName, value);
      break;
    case 'model.contextTokens':
      stored.contextTokens = parseOrThrow(ContextTokens, value);
      break;
    case 'model.timeoutMs':
      stored.timeoutMs = parseOrThrow(TimeoutMs, value);
      break;
  }
  writeStored(vault, stored);
}

export function unsetConfigValue(vault: Vault, keyInput: string): void {
  const key = checkConfigKey(keyInput);
  const stored = upgraded(vault);
  const field = ({ 'model.baseUrl': 'baseUrl', 'model.name': 'name', 'model.contextTokens': 'contextTokens', 'model.timeoutMs': 'timeoutMs' } as const)[key];
  delete stored[field];
  writeStored(vault, stored);
}

/** `sk-…abcd`: enough to recognise a key, never enough to use it. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '(set)';
  return `${secret.slice(0, 3)}…${secret.slice(-4)}`;
}

const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

/** The defaults a new tenant's chat model is prefilled with (environment over file); never a key. */
export interface ModelDefaults {
  baseUrl: string;
  name: string;
  contextTokens?: number;
  timeoutMs?: number;
}

export function modelDefaults(vault: Vault): ModelDefaults | null {
  const stored = upgraded(vault);
  const baseUrl = env('BULKHEAD_MODEL_BASE_URL') ?? stored.baseUrl;
  const name = env('BULKHEAD_MODEL') ?? stored.name;
  if (!baseUrl || !name) return null;
  return {
    baseUrl: parseOrThrow(BaseUrl, baseUrl),
    name: parseOrThrow(ModelName, name),
    ...(stored.contextTokens ? { contextTokens: stored.contextTokens } : {}),
    ...(stored.timeoutMs ? { timeoutMs: stored.timeoutMs } : {}),
  };
}

/** The version-1 settings this tenant is owed a copy of (key opened), or null. */
export function legacyModelFor(
  vault: Vault,
  tenant: TenantHandle,
): { baseUrl: string; name: string; apiKey: string | null; contextTokens?: number; timeoutMs?: number } | null {
  const legacy = upgraded(vault).legacy;
  if (!legacy || !legacy.tenants.includes(tenant.id)) return null;
  let apiKey: string | null = null;
  if (legacy.apiKeySealed) {
    apiKey = vault.openAppSecret(API_KEY_PURPOSE, legacy.apiKeySealed);
    if (apiKey === null)
      throw new BulkheadError('INPUT_INVALID', 'the stored model API key cannot be opened (set by another vault or altered); set it again for each tenant');
  }
  return {
    baseUrl: legacy.baseUrl,
    name: legacy.name,
    apiKey,
    ...(legacy.contextTokens ? { contextTokens: legacy.contextTokens } : {}),
    ...(legacy.timeoutMs ? { timeoutMs: legacy.timeoutMs } : {}),
  };
}

/** This tenant had its copy, or is new (created or imported after the upgrade): it is owed none. */
export function settleLegacyModel(vault: Vault, tenant: TenantHandle): void {
  const stored = upgraded(vault);
  if (!stored.legacy || !stored.legacy.tenants.includes(tenant.id)) return;
  const tenants = stored.legacy.tenants.filter((t) => t !== tenant.id);
  if (tenants.length === 0)
    delete stored.legacy; // the old key leaves this file with the last copy
  else stored.legacy = { ...stored.legacy, tenants };
  writeStored(vault, stored);
}

export function showConfig(vault: Vault): ConfigView {
  const stored = vault.state === 'unlocked' ? upgraded(vault) : readStored(vault);
  const fromEnvironment = [
    ['BULKHEAD_MODEL_BASE_URL', 'model.baseUrl'],
    ['BULKHEAD_MODEL', 'model.name'],
  ]
    .filter(([v]) => env(v!) !== undefined)
    .map(([, k]) => k!);
  return {
    'model.baseUrl': env('BULKHEAD_MODEL_BASE_URL') ?? stored.baseUrl ?? null,
    'model.name': env('BULKHEAD_MODEL') ?? stored.name ?? null,
    'model.contextTokens': stored.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
    'model.timeoutMs': stored.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    fromEnvironment,
    migrationPending: stored.legacy?.tenants.length ?? 0,
  };
}
