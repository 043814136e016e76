import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { writeFileAtomic } from '../vault/paths.js';
import type { Vault } from '../vault/vault.js';

// The chat model endpoint is app-wide (not tenant content): one 0600 JSON file in the data
// folder. The API key is sealed under a key derived from the vault's master key, so the file
// alone never reveals it; the environment variables override the file (for scripts).

export const CONFIG_FILE = 'model.json';
const API_KEY_PURPOSE = 'model.apiKey';

export const BaseUrl = z.url({ protocol: /^https?$/, error: 'model.baseUrl must be an http(s) URL, e.g. http://127.0.0.1:11434/v1' });
export const ModelName = z.string().trim().min(1, 'model.name cannot be empty').max(200, 'model.name can be at most 200 characters');
export const ApiKey = z.string().trim().min(1, 'model.apiKey cannot be empty').max(500, 'model.apiKey can be at most 500 characters');
export const ContextTokens = z.coerce.number().int().min(1024, 'model.contextTokens must be at least 1024').max(2_000_000);
export const TimeoutMs = z.coerce.number().int().min(100, 'model.timeoutMs must be at least 100').max(3_600_000);

const StoredConfig = z
  .object({
    baseUrl: BaseUrl.optional(),
    name: ModelName.optional(),
    apiKeySealed: z.string().max(2000).optional(),
    contextTokens: ContextTokens.optional(),
    timeoutMs: TimeoutMs.optional(),
  })
  .strict();
type StoredConfig = z.infer<typeof StoredConfig>;

/** The keys `bulkhead config set` accepts. */
export const CONFIG_KEYS = ['model.baseUrl', 'model.name', 'model.apiKey', 'model.contextTokens', 'model.timeoutMs'] as const;
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

/** What `config show` prints: never the key itself. */
export interface ConfigView {
  'model.baseUrl': string | null;
  'model.name': string | null;
  'model.apiKey': string | null;
  'model.contextTokens': number;
  'model.timeoutMs': number;
  /** Which settings come from environment variables. */
  fromEnvironment: string[];
}

function configPath(vault: Vault): string {
  return path.join(vault.paths.dataDir, CONFIG_FILE);
}

function readStored(vault: Vault): StoredConfig {
  let raw: string;
  try {
    raw = fs.readFileSync(configPath(vault), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
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

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BulkheadError('INPUT_INVALID', r.error.issues[0]?.message ?? 'invalid value');
  return r.data;
}

function isConfigKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key);
}

function requireKey(key: string): ConfigKey {
  if (!isConfigKey(key)) throw new BulkheadError('INPUT_INVALID', `unknown setting "${key}"; known: ${CONFIG_KEYS.join(', ')}`);
  return key;
}

/** Sets one value; the API key needs the vault unlocked (it is sealed with the master key). */
export function setConfigValue(vault: Vault, keyInput: string, value: string): void {
  const key = requireKey(keyInput);
  const stored = readStored(vault);
  switch (key) {
    case 'model.baseUrl':
      stored.baseUrl = parseOrThrow(BaseUrl, value);
      break;
    case 'model.name':
      stored.name = parseOrThrow(ModelName, value);
      break;
    case 'model.apiKey':
      stored.apiKeySealed = vault.sealAppSecret(API_KEY_PURPOSE, parseOrThrow(ApiKey, value));
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
  const key = requireKey(keyInput);
  const stored = readStored(vault);
  const field = ({ 'model.baseUrl': 'baseUrl', 'model.name': 'name', 'model.apiKey': 'apiKeySealed', 'model.contextTokens': 'contextTokens', 'model.timeoutMs': 'timeoutMs' } as const)[key];
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

function openApiKey(vault: Vault, stored: StoredConfig): string | null {
  if (!stored.apiKeySealed) return null;
  const key = vault.openAppSecret(API_KEY_PURPOSE, stored.apiKeySealed);
  if (key === null) throw new BulkheadError('INPUT_INVALID', 'the stored model API key cannot be opened (set by another vault or altered); set it again');
  return key;
}

/**
 * The endpoint to use, with the environment over the file; null when no base URL or model is set
 * (the agent then answers from retrieval only). Needs the vault unlocked only for a stored API key.
 */
export function resolveModelConfig(vault: Vault): ModelConfig | null {
  const stored = readStored(vault);
  const baseUrl = env('BULKHEAD_MODEL_BASE_URL') ?? stored.baseUrl;
  const name = env('BULKHEAD_MODEL') ?? stored.name;
  if (!baseUrl || !name) return null;
  const apiKey = env('BULKHEAD_MODEL_API_KEY') ?? openApiKey(vault, stored);
  return {
    baseUrl: parseOrThrow(BaseUrl, baseUrl),
    name: parseOrThrow(ModelName, name),
    apiKey,
    contextTokens: stored.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
    timeoutMs: stored.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: 2,
  };
}

export function showConfig(vault: Vault): ConfigView {
  const stored = readStored(vault);
  const fromEnvironment = [
    ['BULKHEAD_MODEL_BASE_URL', 'model.baseUrl'],
    ['BULKHEAD_MODEL', 'model.name'],
    ['BULKHEAD_MODEL_API_KEY', 'model.apiKey'],
  ]
    .filter(([v]) => env(v!) !== undefined)
    .map(([, k]) => k!);
  const envKey = env('BULKHEAD_MODEL_API_KEY');
  let apiKey: string | null = null;
  if (envKey) apiKey = maskSecret(envKey);
  else if (stored.apiKeySealed) apiKey = vault.state === 'unlocked' ? maskSecret(openApiKey(vault, stored) ?? '') : '(set, sealed)';
  return {
    'model.baseUrl': env('BULKHEAD_MODEL_BASE_URL') ?? stored.baseUrl ?? null,
    'model.name': env('BULKHEAD_MODEL') ?? stored.name ?? null,
    'model.apiKey': apiKey,
    'model.contextTokens': stored.contextTokens ?? DEFAULT_CONTEXT_TOKENS,
    'model.timeoutMs': stored.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    fromEnvironment,
  };
}
