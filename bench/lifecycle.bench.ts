// npm run bench:lifecycle: export, import and rekey of a 100,000-chunk tenant (documents,
// chunks, full-text index, vectors, audit chain), in MB/s of the tenant file, beside a plain
// file copy of the same file (the baseline: what moving those bytes costs at all), in one run.
//
// Knobs (env): BENCH_CHUNKS (100000), BENCH_KEEP=1 keeps the temp folder. Build the tenant
// small while developing: BENCH_CHUNKS=5000. The last line printed is one JSON object.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyAudit } from '../src-main/vault/audit-chain.js';
import { countDocuments, storeDocument, type NewChunk } from '../src-main/ingest/documents.js';
import { createEmbedder } from '../src-main/embed/index.js';
import { readEmbedderConfig } from '../src-main/embed/settings.js';
import { vectorIndexFor } from '../src-main/index/vectors.js';
import type { TenantHandle } from '../src-main/vault/handle.js';
import { Vault } from '../src-main/vault/vault.js';
import { MarkovText, rng } from './retrieval/generator.js';

const TARGET_CHUNKS = Number(process.env['BENCH_CHUNKS'] ?? 100_000);
const CHUNKS_PER_DOC = 50;
const WORDS_PER_CHUNK = 120;
// Cheap enough that the key derivations do not hide the data path; the product's default
// Argon2id cost is paid once per unlock or export and is not what this measures.
const KDF = { algorithm: 'argon2id', memoryKiB: 8192, iterations: 1, parallelism: 1 } as const;
const PASS = 'bench passphrase';
const EXPORT_PASS = 'bench export passphrase';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

async function fillTenant(tenant: TenantHandle): Promise<void> {
  const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
  const index = vectorIndexFor(tenant, embedder.id, embedder.dimension);
  const gen = new MarkovText();
  const r = rng(7);
  for (let doc = 0, made = 0; made < TARGET_CHUNKS; doc++) {
    const n = Math.min(CHUNKS_PER_DOC, TARGET_CHUNKS - made);
    const chunks: NewChunk[] = [];
    let at = 0;
    for (let i = 0; i < n; i++) {
      const text = gen.words(r, WORDS_PER_CHUNK);
      chunks.push({
        ordinal: i,
        text,
        tokenCount: WORDS_PER_CHUNK,
        charStart: at,
        charEnd: at + text.length,
        sha256: crypto.createHash('sha256').update(text).digest('hex'),
      });
      at += text.length + 1;
    }
    const vectors = await embedder.embed(chunks.map((c) => c.text));
    const sha256 = crypto.createHash('sha256').update(`doc ${doc}`).digest('hex');
    storeDocument(tenant, { sourcePath: `/bench/doc-${doc}.md`, title: gen.title(r), format: 'md', sha256, bytes: at, tags: [] }, chunks, vectors, index);
    made += n;
    if (doc % 200 === 0) log(`building: ${made}/${TARGET_CHUNKS} chunks`);
  }
}

function fileMb(file: string): number {
  return fs.statSync(file).size / 1e6;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-bench-lifecycle-'));
  try {
    log(`working folder ${root}`);
    const source = new Vault(path.join(root, 'source'));
    await source.initialize(PASS, { kdf: KDF });
    const { id } = source.createTenant('Bench client');
    const session = source.openSession();
    const t0 = process.hrtime.bigint();
    await fillTenant(session.open(id));
    const counts = countDocuments(session.current!);
    log(`built ${counts.chunks} chunks in ${counts.documents} documents in ${since(t0).toFixed(1)} s`);
    session.dispose();
    const file = source.paths.tenantFile(id);
    const mb = fileMb(file);
    log(`tenant file: ${mb.toFixed(1)} MB`);

    // Baseline: a plain copy of the same file, flushed to disk like the operations below.
    const copyTarget = path.join(root, 'plain-copy.bulkhead');
    let t = process.hrtime.bigint();
    fs.copyFileSync(file, copyTarget);
    const fd = fs.openSync(copyTarget, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const copySeconds = since(t);

    const bundle = path.join(root, 'export.bundle');
    t = process.hrtime.bigint();
    await source.exportTenant(id, bundle, EXPORT_PASS, { kdf: KDF });
    const exportSeconds = since(t);

    const target = new Vault(path.join(root, 'target'));
    await target.initialize(PASS, { kdf: KDF });
    t = process.hrtime.bigint();
    await target.importTenant(bundle, EXPORT_PASS);
    const importSeconds = since(t);
    const imported = target.openSession().open(id);
    const verdict = verifyAudit(imported);
    if (!verdict.ok || countDocuments(imported).chunks !== counts.chunks) throw new Error('the imported tenant differs from the source');
    target.lock();

    t = process.hrtime.bigint();
    source.rekeyTenant(id);
    const rekeySeconds = since(t);
    source.lock();

    const rate = (s: number): number => mb / s;
    const rows: [string, number, number][] = [
      ['plain copy (baseline)', copySeconds, rate(copySeconds)],
      ['export', exportSeconds, rate(exportSeconds)],
      ['import', importSeconds, rate(importSeconds)],
      ['rekey', rekeySeconds, rate(rekeySeconds)],
    ];
    console.log(`\nlifecycle of one ${counts.chunks}-chunk tenant (${mb.toFixed(1)} MB file)`);
    console.log(`${'operation'.padEnd(24)}${'seconds'.padStart(10)}${'MB/s'.padStart(10)}${'x copy time'.padStart(14)}`);
    for (const [name, s, r] of rows)
      console.log(`${name.padEnd(24)}${s.toFixed(2).padStart(10)}${r.toFixed(1).padStart(10)}${(s / copySeconds).toFixed(1).padStart(14)}`);
    console.log(
      JSON.stringify({
        chunks: counts.chunks,
        tenant_file_mb: round(mb),
        export_mb_per_s: round(rate(exportSeconds)),
        import_mb_per_s: round(rate(importSeconds)),
        rekey_mb_per_s: round(rate(rekeySeconds)),
        copy_mb_per_s: round(rate(copySeconds)),
        export_s: round(exportSeconds, 2),
        import_s: round(importSeconds, 2),
        rekey_s: round(rekeySeconds, 2),
        copy_s: round(copySeconds, 3),
      }),
    );
  } finally {
    if (!process.env['BENCH_KEEP']) fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
