// Property-based fuzzing of every call in the contract (fast-check): 10,000 generated inputs per
// call, through the same dispatcher the Electron bridge and the web host use. Wrong types, huge
// strings, deep nesting, prototype-pollution keys, paths with "..", and inputs shaped like the
// call's own with nasty values. Each input is either handled or refused with a typed error
// (never INTERNAL, never a throw), and a refused one changes nothing that is stored.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CALL_NAMES, calls, STREAM_NAMES, streams, type Result } from '../../src-shared/contract.js';
import { ERROR_CODES } from '../../src-shared/errors.js';
import { CALL_SCOPE, STREAM_SCOPE } from '../../src-main/api/call-scope.js';
import { invokeCall, invokeStream } from '../../src-main/api/dispatch.js';
import { ConsoleSession } from '../../src-main/api/session.js';
import { ANY_COUNT, ROW_ID, wholeNumber } from '../../src-main/cli/options.js';
import { BulkheadError } from '../../src-shared/errors.js';
import { lookalikeKey } from '../../src-main/vault/names.js';
import { HashedEmbedder } from '../../src-main/embed/hashed.js';
import { storeChunks } from '../helpers/retrieval.js';
import { TEST_KDF, TEST_PASSPHRASE, tempDir } from '../helpers/vault.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_123);

const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  // Look-alikes of the tenants' own names (invisible characters, Cyrillic letters, separators).
  fc.constantFrom('Fuzz\u200b Home', '\u0424uzz Home', 'Fuzz\u00adOther', 'FUZZ  HOME', 'Fuzz\u2028Home', 'F\u0443zz Other', 'invoice\u202Efdp.txt'),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../..',
    '../../registry.bulkhead',
    '/etc/passwd',
    'C:\\Windows\\system.ini',
    '\u0000',
    '\u202e',
    '%00',
    "' OR 1=1 --",
    'ATTACH DATABASE',
    '__proto__',
    'constructor',
    'prototype',
    't_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    'u_' + '0'.repeat(32),
  ),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n)),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, -5, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e20, Number.MAX_VALUE, Number.MIN_VALUE),
);
const { deep } = fc.letrec((tie) => ({
  deep: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.array(tie('deep'), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('deep'), { maxKeys: 2 }),
  ),
}));
const deeplyNested = fc.integer({ min: 100, max: 5000 }).map((depth) => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
});
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constantFrom(null, undefined, [], {}, [[]]),
  fc.array(nastyString, { maxLength: 5 }),
  deep,
  deeplyNested,
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
  fc.constant({ constructor: { prototype: { polluted: true } } }),
);

/** The keys of a call's input object (zod strict objects), so generated inputs look like real ones. */
function keysOf(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function inputsFor(schema: z.ZodType): fc.Arbitrary<unknown> {
  const keys = keysOf(schema);
  const shaped = keys.length > 0 ? fc.record(Object.fromEntries(keys.map((k) => [k, nastyValue])), { requiredKeys: [] }) : fc.constant({ extra: true });
  const shapedWithExtra = shaped.chain((o) =>
    fc
      .constantFrom('__proto__', 'constructor', 'tenantId', 'path', 'sql', 'extra')
      .map((k) => (k === '__proto__' ? Object.assign(JSON.parse('{"__proto__": {"polluted": true}}'), o) : { ...(o as object), [k]: '../other.bulkhead' })),
  );
  return fc.oneof(fc.anything({ withObjectString: true, withNullPrototype: true }), shaped, shapedWithExtra, nastyValue);
}

/** What a refused call must not change: the tenants, the open one, and its documents, notes and audit length. */
function fingerprint(s: ConsoleSession): string {
  if (s.vault.state !== 'unlocked') return `state:${s.vault.state}`;
  const tenants = s.vault
    .listTenants()
    .map((t) => `${t.id}=${t.name}`)
    .join(',');
  const t = s.current;
  if (!t) return `${tenants}|none`;
  const count = (sql: string): number => Number(t.db.prepare(sql).pluck().get());
  return `${tenants}|${t.id}|docs:${count('SELECT count(*) FROM documents')}|notes:${count('SELECT count(*) FROM notes')}|conv:${count('SELECT count(*) FROM conversations')}|emb:${String(t.db.prepare("SELECT value FROM tenant_meta WHERE key = 'knowledge.vectors'").pluck().get())}`;
}

/**
 * An input the contract accepts, identical (once parsed) to one already run: running it again
 * tests nothing new, and for calls like createSamples or lock it costs a restore each time.
 */
function alreadyAccepted(schema: z.ZodType, input: unknown, seen: Set<string>): boolean {
  const parsed = schema.safeParse(input ?? {}); // as the dispatcher reads it: no body is {}
  if (!parsed.success) return false;
  const key = JSON.stringify(parsed.data) ?? 'undefined';
  if (seen.has(key)) return true;
  seen.add(key);
  return false;
}

let s: ConsoleSession;
let dir: string;
let home: string;
let other: string;

async function ok(p: Promise<{ ok: boolean; value?: unknown; error?: unknown }>): Promise<Record<string, unknown>> {
  const r = await p;
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value as Record<string, unknown>;
}

/** Back to the baseline after an input that was accepted: unlocked, out of presentation mode, `home` open. */
async function restore(): Promise<void> {
  if (s.vault.state === 'locked') await ok(invokeCall(s, 'vault.unlock', { passphrase: TEST_PASSPHRASE }));
  if (s.presentationTenant) await ok(invokeCall(s, 'presentation.exit', { passphrase: TEST_PASSPHRASE }));
  for (const t of s.vault.listTenants()) if (t.id !== home && t.id !== other) s.vault.deleteTenant(t.id);
  if (s.current?.id !== home) await ok(invokeCall(s, 'tenants.open', { tenantId: home }));
}

beforeAll(async () => {
  dir = tempDir('bulkhead-fuzz-');
  s = new ConsoleSession({ dataDir: dir, kdf: TEST_KDF });
  await ok(invokeCall(s, 'vault.initialize', { passphrase: TEST_PASSPHRASE }));
  home = String((await ok(invokeCall(s, 'tenants.create', { name: 'Fuzz Home' }))).id);
  other = String((await ok(invokeCall(s, 'tenants.create', { name: 'Fuzz Other' }))).id);
  await ok(invokeCall(s, 'tenants.open', { tenantId: home }));
  await storeChunks(s.current!, new HashedEmbedder(), ['renewal terms of the home client', 'invoices and budgets', 'a third passage']);
});
afterAll(() => {
  s.lock();
  fs.rmSync(dir, { recursive: true, force: true });
});

const VALID_CODES = new Set<string>(ERROR_CODES);

/**
 * RUNS generated inputs through one call: each handled, or refused with a typed error (never
 * INTERNAL, no path under the data folder, no stack) that changed nothing. A stream may also end
 * CANCELLED, which is not a refusal of its input.
 */
async function fuzzCall(schema: z.ZodType, invoke: (input: unknown) => Promise<Result<unknown>>): Promise<void> {
  let refused = 0;
  const accepted = new Set<string>();
  await fc.assert(
    fc.asyncProperty(inputsFor(schema), async (input) => {
      if (alreadyAccepted(schema, input, accepted)) return;
      const before = fingerprint(s);
      const r = await invoke(input);
      if (r.ok) {
        await restore();
        return;
      }
      refused++;
      expect(VALID_CODES.has(r.error.code), r.error.code).toBe(true);
      expect(r.error.code, r.error.message).not.toBe('INTERNAL');
      if (r.error.code !== 'CANCELLED') expect(fingerprint(s)).toBe(before);
      expect(r.error.message).not.toContain(dir);
      expect(r.error.message).not.toMatch(/\n\s+at /);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  expect(refused).toBeGreaterThan(RUNS / 2);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}

describe(`fuzzing every call of the contract (${RUNS} inputs each)`, () => {
  for (const name of CALL_NAMES) {
    it(`${name}: handled or refused with a typed error; a refusal changes nothing`, () =>
      fuzzCall(calls[name].input as z.ZodType, (input) => invokeCall(s, name, input)));
  }

  for (const name of STREAM_NAMES) {
    it(`${name} (stream): handled or refused with a typed error; a refusal changes nothing`, () =>
      fuzzCall(streams[name].input as z.ZodType, (input) => invokeStream(s, name, input, () => undefined, new AbortController().signal)));
  }

  it('an unknown call name is refused, whatever the name', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'calls', '../vault.lock')),
        async (n) => {
          fc.pre(!(CALL_NAMES as string[]).includes(n));
          const r = await invokeCall(s, n, {});
          expect(r).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
        },
      ),
      { numRuns: 2000, seed: SEED },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(path.isAbsolute(dir)).toBe(true);
  });
});

// --- presentation mode ------------------------------------------------------------------------
// Issue 15 finding 3: an observer at a presenting console rewrote vault-wide settings. Here every
// call and stream runs against a session presenting one tenant: whatever it does, nothing outside
// the presented tenant changes (files byte for byte, the registry's tenants, the presented
// tenant's settings), and every call of the vault-wide authority is refused.
const PRESENTATION_RUNS = Number(process.env['FUZZ_PRESENTATION_RUNS'] ?? 300);

describe(`fuzzing every call in presentation mode (${PRESENTATION_RUNS} inputs each)`, () => {
  let p: ConsoleSession;
  let pdir: string;
  let shown: string;

  /** Everything a presenting session must not change: all but the presented tenant's own file. */
  function outside(): string {
    const parts: string[] = [];
    for (const rel of fs.readdirSync(pdir, { recursive: true, encoding: 'utf8' }).sort()) {
      const full = path.join(pdir, rel);
      if (!fs.statSync(full).isFile()) continue;
      // The presented tenant's file (its searches are audited), the registry (its audit head moves
      // with them) and the vault chain (failed passphrases are recorded) change by design.
      if (rel.startsWith(path.join('tenants', shown)) || rel.startsWith('registry.bulkhead') || rel.startsWith('vault-audit') || rel.startsWith('uploads'))
        continue;
      parts.push(`${rel}=${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`);
    }
    parts.push(JSON.stringify(p.vault.listTenants()));
    const h = p.current;
    if (h) {
      const rows = h.db
        .prepare(
          "SELECT key, value FROM tenant_meta WHERE key LIKE '%embedder%' OR key LIKE '%model%' OR key LIKE '%policy%' OR key LIKE '%chunker%' ORDER BY key",
        )
        .all();
      parts.push(`${h.id}:${JSON.stringify(rows)}`);
    }
    return parts.join('\n');
  }

  /** Back to presenting `shown`, unlocked, after an accepted input (a lock, say). */
  async function restorePresenting(): Promise<void> {
    if (p.vault.state === 'locked') {
      await ok(invokeCall(p, 'vault.unlock', { passphrase: TEST_PASSPHRASE }));
      await ok(invokeCall(p, 'presentation.enter', { tenantId: shown }));
    }
    if (!p.presentationTenant) throw new Error('presentation mode ended without the passphrase');
    if (p.current?.id !== shown) await ok(invokeCall(p, 'tenants.open', { tenantId: shown }));
  }

  beforeAll(async () => {
    pdir = tempDir('bulkhead-fuzz-presenting-');
    p = new ConsoleSession({ dataDir: pdir, kdf: TEST_KDF });
    await ok(invokeCall(p, 'vault.initialize', { passphrase: TEST_PASSPHRASE }));
    shown = String((await ok(invokeCall(p, 'tenants.create', { name: 'Shown Client' }))).id);
    await ok(invokeCall(p, 'tenants.create', { name: 'Hidden Client' }));
    await ok(invokeCall(p, 'tenants.open', { tenantId: shown }));
    await storeChunks(p.current!, new HashedEmbedder(), ['the shown client renewal', 'a second passage']);
    await ok(
      invokeCall(p, 'settings.setModel', { model: { baseUrl: 'http://127.0.0.1:9/v1', name: 'owner-model', apiKey: 'owner-secret-key', localOnly: true } }),
    );
    await ok(invokeCall(p, 'presentation.enter', { tenantId: shown }));
  });
  afterAll(() => {
    p.dispose();
    fs.rmSync(pdir, { recursive: true, force: true });
  });

  async function fuzzPresenting(name: string, schema: z.ZodType, admin: boolean, invoke: (input: unknown) => Promise<Result<unknown>>): Promise<void> {
    await fc.assert(
      fc.asyncProperty(inputsFor(schema), async (input) => {
        const before = outside();
        const r = await invoke(input);
        if (admin) expect(r.ok, `${name} was accepted in presentation mode`).toBe(false);
        if (!r.ok) expect(r.error.code, r.error.message).not.toBe('INTERNAL');
        await restorePresenting();
        expect(outside(), `${name} changed something outside the presented tenant`).toBe(before);
      }),
      { numRuns: PRESENTATION_RUNS, seed: SEED, endOnFailure: true },
    );
  }

  for (const name of CALL_NAMES) {
    const admin = CALL_SCOPE[name] === 'admin' || CALL_SCOPE[name] === 'tenant-admin';
    it(`${name}: changes nothing outside the presented tenant${admin ? ', and is refused' : ''}`, () =>
      fuzzPresenting(name, calls[name].input as z.ZodType, admin, (input) => invokeCall(p, name, input)));
  }
  for (const name of STREAM_NAMES) {
    const admin = STREAM_SCOPE[name] === 'admin' || STREAM_SCOPE[name] === 'tenant-admin';
    it(`${name} (stream): changes nothing outside the presented tenant${admin ? ', and is refused' : ''}`, () =>
      fuzzPresenting(name, streams[name].input as z.ZodType, admin, (input) => invokeStream(p, name, input, () => undefined, new AbortController().signal)));
  }

  it('refuses well-formed vault-wide calls: the model endpoint, the embedder, new clients, the keychain', async () => {
    const before = outside();
    const tries: [string, unknown][] = [
      ['settings.setModel', { model: { baseUrl: 'http://attacker.example/v1', name: 'x', apiKey: '', localOnly: false } }],
      ['settings.setEmbedder', { embedder: { kind: 'hash' } }],
      ['tenants.create', { name: 'Observer Co' }],
      ['tenants.createSamples', {}],
      ['keychain.disable', {}],
      ['vault.unlockWithKeychain', {}],
      ['vault.unlock', { passphrase: 'a guess at the passphrase' }],
    ];
    for (const [name, input] of tries) {
      const r = await invokeCall(p, name, input);
      expect(r.ok, name).toBe(false);
      expect(r.ok ? '' : r.error.code, name).toMatch(/PRESENTATION_MODE|WRONG_PASSPHRASE/);
    }
    const verify = await invokeStream(p, 'verify.run', {}, () => undefined, new AbortController().signal);
    expect(verify).toMatchObject({ ok: false, error: { code: 'PRESENTATION_MODE' } });
    expect(p.presentationTenant).toBe(shown);
    expect(outside()).toBe(before);
  });
});

describe('fuzzing the new limits', () => {
  const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff', '\u180e', '\ufe0f'];
  const SWAPS: Record<string, string[]> = {
    o: ['\u043e', '\u03bf', '0'],
    u: ['\u0443', '\u03c5'],
    e: ['\u0435'],
    H: ['\u041d', '\u0397'],
    m: ['rn', '\u043c'],
    F: ['\u03dc'],
  };
  const lookalike = fc
    .tuple(
      fc.constantFrom('Fuzz Home', 'Fuzz Other'),
      fc.array(fc.tuple(fc.nat(20), fc.constantFrom(...INVISIBLE)), { maxLength: 4 }),
      fc.array(fc.nat(20), { maxLength: 3 }),
      fc.boolean(),
    )
    .map(([base, inserts, swaps, upper]) => {
      const chars = [...(upper ? base.toUpperCase() : base)];
      for (const at of swaps) {
        const c = chars[at % chars.length]!;
        const options = SWAPS[c];
        if (options) chars[at % chars.length] = options[at % options.length]!;
      }
      for (const [at, ch] of inserts) chars.splice(at % (chars.length + 1), 0, ch);
      return chars.join('');
    });

  it('a look-alike of an existing tenant name is never a new tenant (created or renamed into)', async () => {
    await fc.assert(
      fc.asyncProperty(lookalike, async (name) => {
        fc.pre(lookalikeKey(name) === lookalikeKey('Fuzz Home') || lookalikeKey(name) === lookalikeKey('Fuzz Other'));
        const before = fingerprint(s);
        const created = await invokeCall(s, 'tenants.create', { name });
        expect(created.ok, name).toBe(false);
        if (!created.ok) expect(['NAME_TAKEN', 'INPUT_INVALID']).toContain(created.error.code);
        // Renaming the other tenant into a look-alike of home (or home into one of other) is refused too.
        const target = lookalikeKey(name) === lookalikeKey('Fuzz Home') ? other : home;
        const renamed = await invokeCall(s, 'tenants.rename', { tenantId: target, name });
        expect(renamed.ok, name).toBe(false);
        expect(fingerprint(s)).toBe(before);
      }),
      { numRuns: Math.min(RUNS, 2000), seed: SEED },
    );
  });

  it('every CLI number option takes a whole number in range or refuses with INPUT_INVALID, whatever is typed', () => {
    const parsers = [wholeNumber('--limit', { min: 1, max: 100 }), wholeNumber('--offset', ANY_COUNT), wholeNumber('an id', ROW_ID)];
    const typed = fc.oneof(
      fc.string(),
      fc.integer().map(String),
      fc.double().map(String),
      fc.constantFrom('abc', '1e20', '-5', '0x10', ' 7 ', '1.0', 'Infinity', '', '99999999999999999999'),
    );
    fc.assert(
      fc.property(typed, fc.constantFrom(0, 1, 2), (value, which) => {
        try {
          const n = parsers[which]!(value);
          expect(Number.isSafeInteger(n)).toBe(true);
          expect(String(n)).toBe(value.trim().replace(/^0+(?=\d)/, ''));
        } catch (err) {
          expect(err).toBeInstanceOf(BulkheadError);
          expect((err as BulkheadError).code).toBe('INPUT_INVALID');
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('generated hostile markdown uploads are ingested or refused with a typed code; the session goes on', async () => {
    const doc = fc
      .tuple(
        fc.integer({ min: 0, max: 4000 }),
        fc.constantFrom('- ', '> ', '1. ', '* ', '  '),
        fc.integer({ min: 0, max: 6000 }),
        fc.constantFrom('*a _', '[', '|x', '`'),
      )
      .map(
        ([depth, marker, marks, mark]) =>
          `${Array.from({ length: Math.min(depth, 400) }, (_, i) => `${'  '.repeat(i % 200)}${marker.repeat(1 + Math.floor(depth / 400))}item`).join('\n')}\n\n${mark.repeat(marks)}\n\nplain words at the end\n`,
      );
    await fc.assert(
      fc.asyncProperty(doc, async (text) => {
        const u = await s.uploads.add(home, 'hostile.md', Buffer.from(text));
        const r = await invokeStream(s, 'ingest.run', { uploadIds: [u.uploadId], tags: [] }, () => undefined, new AbortController().signal);
        expect(r.ok).toBe(true);
        const file = (r as { value: { files: { status: string; code?: string }[] } }).value.files[0]!;
        if (file.status === 'failed') expect(['TOO_DEEP', 'TOO_LARGE', 'TIMEOUT', 'EMPTY']).toContain(file.code);
        await restore();
      }),
      { numRuns: Math.min(RUNS, 25), seed: SEED },
    );
  });
});
