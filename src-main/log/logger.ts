import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import pinoRoll from 'pino-roll';
import { ERROR_CODES } from '../../src-shared/errors.js';
import { TenantId } from '../../src-shared/tenant.js';

/** What an app-wide log line may carry: the redaction layer decides which strings survive. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * The app-wide log (one per data folder, in logs/). It holds opaque tenant ids, error codes,
 * counts and durations; never a tenant's name, content, key or the passphrase.
 */
export interface AppLog {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  close(): Promise<void>;
}

export interface AppLogOptions {
  /** Rotate when a file reaches this size (pino-roll units: '10m', '512k'). */
  size?: string;
  /** Rotated files kept beside the active one. */
  keep?: number;
  level?: 'debug' | 'info' | 'warn' | 'error';
}

export const LOG_DIR_NAME = 'logs';
const REDACTED = '[redacted]';
const EVENT = /^[a-z][a-z0-9_.-]{0,63}$/;
/** Enumerations and identifiers written by code, never typed by a user. */
const WORD = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
/** String fields that may hold such a word; any other string is dropped. */
const WORD_FIELDS = new Set(['command', 'op', 'kind', 'state', 'phase', 'outcome', 'reason', 'format', 'embedder', 'from', 'to']);
const CODES = new Set<string>(ERROR_CODES);

/** Keys that must never reach a log even if a caller bypasses the layer: pino censors them too. */
const PINO_REDACT = ['passphrase', 'password', 'key', 'dataKey', 'masterKey', 'name', 'tenantName', 'text', 'query', 'content', 'body', 'path', 'message'];

/**
 * The redaction layer: an allowlist. Numbers, booleans and null pass; a string passes only as a
 * tenant id (`tenant`), an error code (`code`) or a lowercase code word in a known field.
 * Everything else, including every free-text message, becomes "[redacted]".
 */
export function redactFields(fields: LogFields = {}): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(k)) continue;
    if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : null;
    else if (typeof v === 'boolean' || v === null) out[k] = v;
    else out[k] = allowedString(k, v) ? v : REDACTED;
  }
  return out;
}

function allowedString(key: string, value: string): boolean {
  if (key === 'tenant' || key.endsWith('TenantId')) return TenantId.safeParse(value).success;
  if (key === 'code') return CODES.has(value);
  if (key === 'at') return /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(value);
  return WORD_FIELDS.has(key) && WORD.test(value);
}

/** The code of an error, for a log line: its message may name a tenant, so it stays out. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CODES.has(code) ? code : 'INTERNAL';
}

export const silentLog: AppLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  close: async () => undefined,
};

/** Opens (creating owner-only) `<dataDir>/logs/bulkhead.<n>.log`, rotating by size and day. */
export async function openAppLog(dataDir: string, opts: AppLogOptions = {}): Promise<AppLog> {
  const dir = path.join(dataDir, LOG_DIR_NAME);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const stream = await pinoRoll({
    file: path.join(dir, 'bulkhead'),
    extension: '.log',
    size: opts.size ?? '10m',
    frequency: 'daily',
    limit: { count: opts.keep ?? 9 },
    mode: 0o600,
    sync: false,
  });
  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: PINO_REDACT, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
  const write = (level: 'info' | 'warn' | 'error') => (event: string, fields?: LogFields) =>
    logger[level](redactFields(fields), EVENT.test(event) ? event : REDACTED);
  return {
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    close: () =>
      new Promise<void>((resolve) => {
        logger.flush();
        stream.once('close', () => resolve());
        stream.end();
      }),
  };
}
