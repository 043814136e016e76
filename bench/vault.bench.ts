// npm run bench:vault: switching between two 100,000-row tenants, encrypted, beside the same
// steps on unencrypted copies of the same data (the named baseline, "plain"), in one run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import * as sqliteVec from 'sqlite-vec';
import { migrate } from '../src-main/vault/migrations/migrate.js';
import { tenantMigrations } from '../src-main/vault/migrations/tenant/index.js';
import { Vault } from '../src-main/vault/vault.js';
import type { Db } from '../src-main/vault/sqlite.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const SWITCHES = Number(process.env.BENCH_SWITCHES ?? 500);
const WORDS = 'account brief campaign deliverable estimate feedback invoice launch milestone proposal retainer schedule strategy timeline'.split(' ');

function sentence(seed: number, words: number): string {
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out.push(WORDS[s % WORDS.length]!);
  }
  return out.join(' ');
}

function fill(db: Db, seed: number): void {
  const insert = db.prepare('INSERT INTO notes (title, body, created_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(sentence(seed + i, 4), sentence(seed * 7 + i, 30), new Date(1_700_000_000_000 + i * 1000).toISOString());
  })();
}

/** The first thing the console shows after a switch: the newest items. */
const FIRST_QUERY = 'SELECT id, title, created_at FROM notes ORDER BY id DESC LIMIT 20';

/** The same steps the vault takes on open, minus the cipher: the fair baseline. */
function openPlain(file: string): Db {
  const db = new Database(file, { fileMustExist: true });
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  sqliteVec.load(db);
  for (const p of [
    'temp_store=MEMORY',
    'journal_mode=WAL',
    'synchronous=FULL',
    'foreign_keys=ON',
    'secure_delete=ON',
    'trusted_schema=OFF',
    'busy_timeout=5000',
  ])
    db.pragma(p);
  migrate(db, tenantMigrations, 'plain copy');
  db.prepare("SELECT value FROM tenant_meta WHERE key = 'tenant_id'").pluck().get();
  return db;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(times: number[]): { p50: number; p95: number } {
  const s = [...times].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95) };
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-bench-'));
  try {
    const vault = new Vault(dir);
    const t0 = performance.now();
    await vault.initialize('benchmark passphrase'); // the product's default Argon2id cost
    const initMs = performance.now() - t0;
    vault.lock();
    const u0 = performance.now();
    await vault.unlock('benchmark passphrase');
    const unlockMs = performance.now() - u0;

    const ids = [vault.createTenant('Bench A').id, vault.createTenant('Bench B').id];
    const setup = vault.openSession();
    ids.forEach((id, i) => fill(setup.open(id).db, i * 1_000_003));
    setup.dispose();

    const plainFiles = ids.map((id, i) => {
      const file = path.join(dir, `plain-${i}.sqlite`);
      const db = new Database(file);
      db.pragma('journal_mode=WAL');
      migrate(db, tenantMigrations, 'plain copy');
      db.prepare("INSERT INTO tenant_meta VALUES ('tenant_id', ?)").run(id);
      fill(db, i * 1_000_003);
      db.close();
      return file;
    });
    const sizeMb = fs.statSync(path.join(vault.paths.tenants, `${ids[0]}.bulkhead`)).size / 1e6;

    // Interleave encrypted and plain rounds so machine noise hits both alike.
    const session = vault.openSession();
    session.open(ids[0]!);
    let plain = openPlain(plainFiles[0]!);
    const enc: number[] = [];
    const pln: number[] = [];
    for (let i = 1; i <= SWITCHES + 10; i++) {
      const a = performance.now();
      const h = session.open(ids[i % 2]!); // closes the other, zeroes its key, unwraps, opens
      h.db.prepare(FIRST_QUERY).all();
      const b = performance.now();
      plain.close();
      plain = openPlain(plainFiles[i % 2]!);
      plain.prepare(FIRST_QUERY).all();
      const c = performance.now();
      if (i > 10) {
        enc.push(b - a);
        pln.push(c - b);
      }
    }
    plain.close();
    vault.lock();

    const e = summarise(enc);
    const p = summarise(pln);
    const figures = {
      rows_per_tenant: ROWS,
      tenant_file_mb: round(sizeMb, 1),
      switches: SWITCHES,
      switch_p50_ms: round(e.p50, 3),
      switch_p95_ms: round(e.p95, 3),
      plain_p50_ms: round(p.p50, 3),
      plain_p95_ms: round(p.p95, 3),
      ratio_vs_plain: round(e.p50 / p.p50, 3),
      ratio_p95_vs_plain: round(e.p95 / p.p95, 3),
      unlock_ms: round(unlockMs, 1),
      init_ms: round(initMs, 1),
    };
    console.log(`tenant switch, ${ROWS} rows per tenant (${figures.tenant_file_mb} MB file), ${SWITCHES} switches`);
    console.log(`                      p50 ms    p95 ms`);
    console.log(`encrypted (Bulkhead)  ${String(figures.switch_p50_ms).padStart(7)}  ${String(figures.switch_p95_ms).padStart(8)}`);
    console.log(`plain SQLite copy     ${String(figures.plain_p50_ms).padStart(7)}  ${String(figures.plain_p95_ms).padStart(8)}`);
    console.log(`ratio encrypted/plain ${String(figures.ratio_vs_plain).padStart(7)}  ${String(figures.ratio_p95_vs_plain).padStart(8)}`);
    console.log(`unlock (Argon2id, default cost) ${figures.unlock_ms} ms; switching derives no key`);
    console.log(JSON.stringify(figures));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
