import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Embedder } from '../../../src-main/embed/embedder.js';
import { HashedEmbedder } from '../../../src-main/embed/hashed.js';
import { createEmbedder } from '../../../src-main/embed/index.js';
import { readEmbedderConfig } from '../../../src-main/embed/settings.js';
import { decodeTermSpace } from '../../../src-main/embed/term-space.js';
import { activeVectorIndex, createVectorTable } from '../../../src-main/index/vectors.js';
import { ingestPaths } from '../../../src-main/ingest/pipeline.js';
import { searchKnowledge } from '../../../src-main/retrieval/knowledge.js';
import { reembedTenant } from '../../../src-main/retrieval/reembed.js';
import { pendingTuning, TERM_SPACE_MIN_CHUNKS, termSpaceDue, tuneOfflineEmbedder } from '../../../src-main/retrieval/term-space-job.js';
import type { TenantHandle } from '../../../src-main/vault/handle.js';
import type { Vault } from '../../../src-main/vault/vault.js';
import { mulberry32 } from '../../../src-shared/seeded-random.js';
import { countRows, storeChunks, vectorRows } from '../../helpers/retrieval.js';
import { linesOf, runAndKill } from '../../helpers/kill.js';
import { freshVault, TEST_PASSPHRASE, tempDir } from '../../helpers/vault.js';

const vaults: { vault: Vault; dir: string }[] = [];
afterEach(() => {
  for (const { vault, dir } of vaults.splice(0)) {
    vault.lock();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function fresh(name = 'Tuning'): Promise<{ vault: Vault; id: string; tenant: TenantHandle }> {
  const dir = tempDir('bulkhead-tuning-');
  const vault = await freshVault(dir);
  vaults.push({ vault, dir });
  const { id } = vault.createTenant(name);
  return { vault, id, tenant: vault.openSession().open(id) };
}

/**
 * `count` passages on 20 subjects, each with 30 words of its own made of syllables; `mark` begins
 * every word, so two tenants' vocabularies (different marks) share nothing.
 */
function corpus(count: number, mark: string, seed = 1): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'pe', 'dri', 'zan', 'gul', 'fen'];
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const s = i % 20;
    const words = Array.from({ length: 14 }, () => {
      const w = Math.floor(random() * 30);
      return `${mark}${syllables[s % 12]}${syllables[Math.floor(s / 12)]}${syllables[w % 12]}${syllables[Math.floor(w / 12)]}`;
    });
    return `${words.join(' ')}.`;
  });
}

async function withChunks(tenant: TenantHandle, texts: string[], prefix = 'doc'): Promise<void> {
  // With the tenant's embedder of the moment (the hash vectors, or the tuned ones).
  await storeChunks(
    tenant,
    createEmbedder(tenant, readEmbedderConfig(tenant)),
    texts.map((text, i) => ({ documentKey: `${prefix}-${i}`, ordinal: 0, text })),
  );
}

const tables = (tenant: TenantHandle): string[] =>
  tenant.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[];
const models = (tenant: TenantHandle): Buffer[] => tenant.db.prepare('SELECT model FROM term_spaces').pluck().all() as Buffer[];

describe('the offline embedder, tuned to each tenant', () => {
  it('learns from the tenant, re-embeds every chunk into one new index, and search stays hybrid', async () => {
    const { tenant } = await fresh();
    const texts = corpus(600, 'q');
    await withChunks(tenant, texts);
    const before = activeVectorIndex(tenant)!;
    expect(termSpaceDue(tenant)).toBe(600);

    const outcome = await tuneOfflineEmbedder(tenant);
    expect(outcome.kind).toBe('tuned');
    const config = readEmbedderConfig(tenant);
    expect(config).toMatchObject({ kind: 'terms', chunks: 600 });
    if (config.kind !== 'terms') throw new Error('not tuned');
    const index = activeVectorIndex(tenant)!;
    expect(index).toEqual({ generation: before.generation + 1, embedderId: `terms-v1:${config.space}`, dimension: config.dimension });
    expect(vectorRows(tenant, index)).toBe(600);
    // The old generation's tables are gone; one model is stored, and it reads back whole.
    expect(tables(tenant).filter((t) => /_\d+$/.test(t) && !t.endsWith(`_${index.generation}`))).toEqual([]);
    expect(models(tenant)).toHaveLength(1);
    expect(decodeTermSpace(models(tenant)[0]!, config.space).chunks).toBe(600);
    expect(termSpaceDue(tenant)).toBeNull();

    const word = texts[3]!.split(' ')[0]!;
    const found = await searchKnowledge(tenant, word);
    expect(found.mode).toBe('hybrid');
    expect(found.passages.length).toBeGreaterThan(0);
    expect(found.passages[0]!.text).toContain(word);
    expect(found.passages.some((p) => p.vectorRank !== null)).toBe(true);
  });

  it('waits for enough chunks; a search starts it, and again once the tenant has doubled', async () => {
    const { tenant } = await fresh();
    await withChunks(tenant, corpus(TERM_SPACE_MIN_CHUNKS - 1, 'q'));
    expect(termSpaceDue(tenant)).toBeNull();
    await searchKnowledge(tenant, 'anything');
    expect(pendingTuning(tenant)).toBeUndefined();
    expect(readEmbedderConfig(tenant).kind).toBe('hash');

    await withChunks(tenant, corpus(1, 'q', 2), 'more');
    await searchKnowledge(tenant, 'anything');
    expect(pendingTuning(tenant)).toBeDefined();
    expect((await pendingTuning(tenant))?.kind).toBe('tuned');
    const first = readEmbedderConfig(tenant);
    expect(first).toMatchObject({ kind: 'terms', chunks: TERM_SPACE_MIN_CHUNKS });

    // Within a factor of two: nothing to do.
    await withChunks(tenant, corpus(400, 'q', 3), 'again');
    await searchKnowledge(tenant, 'anything');
    expect(pendingTuning(tenant)).toBeUndefined();
    // Doubled: learnt again, and only the new model stays in the file.
    await withChunks(tenant, corpus(100, 'q', 4), 'last');
    await searchKnowledge(tenant, 'anything');
    expect((await pendingTuning(tenant))?.kind).toBe('tuned');
    const second = readEmbedderConfig(tenant);
    expect(second).toMatchObject({ kind: 'terms', chunks: 2 * TERM_SPACE_MIN_CHUNKS });
    expect(second).not.toEqual(first);
    expect(models(tenant)).toHaveLength(1);
    expect(vectorRows(tenant, activeVectorIndex(tenant)!)).toBe(2 * TERM_SPACE_MIN_CHUNKS);
  });

  it("learns from its own tenant only: nothing of another tenant's words is in its model or its file", async () => {
    const a = await fresh('Client A');
    const b = await fresh('Client B');
    await withChunks(a.tenant, corpus(600, 'alfa'));
    await withChunks(b.tenant, corpus(600, 'bravo'));
    await tuneOfflineEmbedder(a.tenant);
    await tuneOfflineEmbedder(b.tenant);
    const spaceA = decodeTermSpace(models(a.tenant)[0]!);
    const spaceB = decodeTermSpace(models(b.tenant)[0]!);
    expect([...spaceA.terms.keys()].every((s) => s.startsWith('alfa'))).toBe(true);
    expect([...spaceB.terms.keys()].every((s) => s.startsWith('bravo'))).toBe(true);
    expect(models(b.tenant)[0]!.includes('alfa')).toBe(false);
    expect(readEmbedderConfig(a.tenant)).not.toEqual(readEmbedderConfig(b.tenant));
    // B's search reads B's model: a word of A finds nothing there.
    const found = await searchKnowledge(b.tenant, [...spaceA.terms.keys()][0]!);
    expect(found.passages.every((p) => !p.text.includes('alfa'))).toBe(true);
  });

  it('a cancel leaves the hash vectors, the setting and the file as they were', async () => {
    const { tenant } = await fresh();
    await withChunks(tenant, corpus(600, 'q'));
    const before = activeVectorIndex(tenant)!;
    const tablesBefore = tables(tenant);
    const cancel = new AbortController();
    const run = tuneOfflineEmbedder(tenant, { signal: cancel.signal });
    setTimeout(() => cancel.abort(), 20);
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readEmbedderConfig(tenant)).toEqual({ kind: 'hash' });
    expect(activeVectorIndex(tenant)).toEqual(before);
    expect(tables(tenant)).toEqual(tablesBefore);
    expect(models(tenant)).toHaveLength(0);
    expect((await searchKnowledge(tenant, 'anything')).mode).toBe('hybrid');
  });

  it('a re-embed the user asks for goes first, and their choice stays', async () => {
    const { tenant } = await fresh();
    await withChunks(tenant, corpus(600, 'q'));
    const tuning = tuneOfflineEmbedder(tenant);
    // While the space is being learnt, the user re-embeds (here with the plain offline embedder).
    const mine = await reembedTenant(tenant, { kind: 'hash' }, new HashedEmbedder());
    expect((await tuning).kind).toBe('skipped');
    expect(readEmbedderConfig(tenant)).toEqual({ kind: 'hash' });
    expect(activeVectorIndex(tenant)).toEqual(mine);
    expect(models(tenant)).toHaveLength(0);
    expect(vectorRows(tenant, mine)).toBe(600);
  });

  it('ingestion running across the switch stores every chunk with a vector of the new index', async () => {
    const { tenant } = await fresh();
    await withChunks(tenant, corpus(600, 'q'));
    const dir = tempDir('bulkhead-tuning-files-');
    const more = corpus(12, 'q', 9);
    more.forEach((text, i) => fs.writeFileSync(path.join(dir, `note-${i}.txt`), text));
    let tuning: Promise<unknown> | null = null;
    const hash = new HashedEmbedder();
    // Its third file is embedded with the hash vectors, then waits for the tenant to switch: it
    // must not land in the index that is gone.
    let calls = 0;
    const slow: Embedder = {
      id: hash.id,
      dimension: hash.dimension,
      async embed(texts, signal) {
        const out = await hash.embed(texts, signal);
        if (++calls === 3) {
          tuning = tuneOfflineEmbedder(tenant);
          await tuning;
        }
        return out;
      },
    };
    const summary = await ingestPaths(tenant, [dir], { embedder: slow });
    expect(tuning).not.toBeNull();
    expect(summary.failed).toBe(0);
    expect(summary.added).toBe(12);
    expect(readEmbedderConfig(tenant).kind).toBe('terms');
    const index = activeVectorIndex(tenant)!;
    expect(vectorRows(tenant, index)).toBe(countRows(tenant, 'SELECT id FROM chunks'));
    const found = await searchKnowledge(tenant, more[11]!.split(' ')[0]!);
    expect(found.mode).toBe('hybrid');
  });

  it('a damaged model: search answers from full text and says so, and the next search learns it again', async () => {
    const { vault, id, tenant } = await fresh();
    await withChunks(tenant, corpus(600, 'q'));
    await tuneOfflineEmbedder(tenant);
    const config = readEmbedderConfig(tenant);
    if (config.kind !== 'terms') throw new Error('not tuned');
    tenant.db.prepare('UPDATE term_spaces SET model = ? WHERE sha256 = ?').run(Buffer.from('not a model'), config.space);
    // A new session reads the file afresh (nothing of the old handle's memos).
    const again = vault.openSession().open(id);
    const found = await searchKnowledge(again, corpus(1, 'q')[0]!.split(' ')[0]!);
    expect(found.mode).toBe('full-text');
    expect(found.note).toMatch(/term space is damaged/);
    expect(found.passages.length).toBeGreaterThan(0);
    expect((await pendingTuning(again))?.kind).toBe('tuned');
    expect((await searchKnowledge(again, 'anything')).mode).toBe('hybrid');
    expect(models(again)).toHaveLength(1);
  });

  it('goes with the tenant when it is exported, and an imported copy searches with it', async () => {
    const { vault, id, tenant } = await fresh('Exported');
    const texts = corpus(600, 'q');
    await withChunks(tenant, texts);
    await tuneOfflineEmbedder(tenant);
    const config = readEmbedderConfig(tenant);
    const word = texts[7]!.split(' ')[2]!;
    const here = await searchKnowledge(tenant, word);
    const bundle = path.join(tempDir(), 'tuned.bulkhead-export');
    await vault.exportTenant(id, bundle, 'export passphrase', { kdf: { algorithm: 'argon2id', memoryKiB: 8192, iterations: 1, parallelism: 1 } });
    const target = await fresh('Target');
    const imported = await target.vault.importTenant(bundle, 'export passphrase');
    const copy = target.vault.openSession().open(imported.tenantId);
    expect(readEmbedderConfig(copy)).toEqual(config);
    const there = await searchKnowledge(copy, word);
    expect(there.mode).toBe('hybrid');
    expect(there.passages.map((p) => p.text)).toEqual(here.passages.map((p) => p.text));
    expect(termSpaceDue(copy)).toBeNull();
  });
});

describe('two windows on one tenant', () => {
  it('tune it at the same time: one switches, the other gives way, and the file is whole', async () => {
    const { vault, id, tenant } = await fresh('Two windows');
    await withChunks(tenant, corpus(1500, 'q'));
    const other = vault.openSession().open(id);
    const outcomes = await Promise.all([tuneOfflineEmbedder(tenant), tuneOfflineEmbedder(other)]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['skipped', 'tuned']);
    const config = readEmbedderConfig(tenant);
    expect(config.kind).toBe('terms');
    const index = activeVectorIndex(tenant)!;
    expect(vectorRows(tenant, index)).toBe(1500);
    expect(tables(tenant).filter((t) => /_\d+$/.test(t) && !t.endsWith(`_${index.generation}`))).toEqual([]);
    expect(models(tenant)).toHaveLength(1);
    for (const t of [tenant, other]) expect((await searchKnowledge(t, corpus(1, 'q')[0]!.split(' ')[0]!)).mode).toBe('hybrid');
  });

  it("the user's re-embed in one window takes over from the tuning running in the other", async () => {
    const { vault, id, tenant } = await fresh('Two windows');
    await withChunks(tenant, corpus(1500, 'q'));
    const other = vault.openSession().open(id);
    const tuning = tuneOfflineEmbedder(tenant).then(
      () => null,
      (err: unknown) => err,
    );
    // Once the tuning is re-embedding (its claim is in the file), the other window re-embeds.
    await expect
      .poll(() => other.db.prepare("SELECT count(*) FROM tenant_meta WHERE key = 'knowledge.vectors.building'").pluck().get(), { timeout: 20_000, interval: 5 })
      .toBe(1);
    const mine = await reembedTenant(other, { kind: 'hash' }, new HashedEmbedder());
    expect(await tuning).toMatchObject({ code: 'TENANT_BUSY' });
    expect(readEmbedderConfig(tenant)).toEqual({ kind: 'hash' });
    expect(activeVectorIndex(tenant)).toEqual(mine);
    expect(vectorRows(tenant, mine)).toBe(1500);
    expect(tables(tenant).filter((t) => /_\d+$/.test(t) && !t.endsWith(`_${mine.generation}`))).toEqual([]);
  });
});

describe('a re-embed that took over from a run that then died', () => {
  it("drops the dead run's tables when it switches", async () => {
    const { tenant } = await fresh('Taken over');
    await withChunks(tenant, corpus(100, 'q'));
    const active = activeVectorIndex(tenant)!;
    // Another process claimed generation 7 a moment ago, built part of it, and was killed.
    const dead = { generation: 7, embedderId: 'hash-v1', dimension: 384 };
    createVectorTable(tenant, dead);
    tenant.db
      .prepare("INSERT INTO tenant_meta (key, value) VALUES ('knowledge.vectors.building', ?)")
      .run(JSON.stringify({ generation: 7, token: 'dead-run', at: Date.now() }));
    const mine = await reembedTenant(tenant, { kind: 'hash' }, new HashedEmbedder());
    expect(mine.generation).toBe(8);
    expect(tables(tenant).filter((t) => /_\d+$/.test(t) && !t.endsWith('_8'))).toEqual([]);
    expect(active.generation).toBeLessThan(7);
    expect(tenant.db.prepare("SELECT count(*) FROM tenant_meta WHERE key = 'knowledge.vectors.building'").pluck().get()).toBe(0);
  });
});

describe('a process killed while it tunes the offline embedder', () => {
  it('leaves a tenant whose setting, model and vectors agree, whatever the moment (6 kills)', async () => {
    const { vault, id, tenant } = await fresh('Killed');
    await withChunks(tenant, corpus(1500, 'q'));
    vault.lock();
    const outcomes: string[] = [];
    for (let trial = 0; trial < 6; trial++) {
      const run = await runAndKill('test/helpers/child-tuner.ts', [vault.paths.dataDir, id], { armOn: 'tuning', delayMs: () => 100 + trial * 350 });
      outcomes.push(run.killed ? 'killed' : (linesOf(run).at(-1) ?? `exit ${run.code}: ${run.stderr}`));
      await vault.unlock(TEST_PASSPHRASE);
      const t = vault.openSession().open(id);
      expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const config = readEmbedderConfig(t);
      const index = activeVectorIndex(t)!;
      // The setting names the vectors in use, and they are all there.
      expect(index.embedderId).toBe(createEmbedder(t, config).id);
      expect(vectorRows(t, index)).toBe(1500);
      if (config.kind === 'terms')
        expect(
          decodeTermSpace(t.db.prepare('SELECT model FROM term_spaces WHERE sha256 = ?').pluck().get(config.space) as Buffer, config.space).rank,
        ).toBeGreaterThan(0);
      expect((await searchKnowledge(t, corpus(1, 'q')[0]!.split(' ')[0]!, { embedder: createEmbedder(t, config), tune: false })).mode).toBe('hybrid');
      // A killed run's claim on the next generation holds for two minutes: let them pass.
      t.db.prepare("UPDATE tenant_meta SET value = json_set(value, '$.at', 0) WHERE key = 'knowledge.vectors.building'").run();
      vault.lock();
    }
    // The kills must land while it works, or this proves nothing.
    expect(outcomes.filter((o) => o === 'killed').length, outcomes.join(', ')).toBeGreaterThanOrEqual(4);
    // What a kill left (a model not switched to, a half-built generation) goes at the next tuning.
    await vault.unlock(TEST_PASSPHRASE);
    const t = vault.openSession().open(id);
    expect((await tuneOfflineEmbedder(t, { force: true })).kind).toBe('tuned');
    const index = activeVectorIndex(t)!;
    expect(models(t)).toHaveLength(1);
    expect(tables(t).filter((name) => /_\d+$/.test(name) && !name.endsWith(`_${index.generation}`))).toEqual([]);
  });
});
