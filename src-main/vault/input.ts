import fs from 'node:fs';
import type { z } from 'zod';
import { BulkheadError } from '../../src-shared/errors.js';
import { TENANT_FILE_SUFFIX } from './paths.js';

export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new BulkheadError('INPUT_INVALID', r.error.issues[0]?.message ?? 'invalid input');
  return r.data;
}

export function listTenantFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith(TENANT_FILE_SUFFIX));
  } catch {
    return [];
  }
}
