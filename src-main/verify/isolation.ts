// `bulkhead verify`: an isolation self-test against the user's own data folder. It plants a random
// canary in a scratch tenant, then tries to reach it from every other tenant through each way
// the product reads data (retrieval, the agent's tools, the model's context, in-memory caches),
// scans every file under the data folder for it in plain text, checks that no tenant file opens
// with another tenant's key and that every audit chain verifies, and deletes the scratch tenant.
// Other tenants' content is never changed: they only gain the audit records of being opened and
// searched. The report names tenants by their opaque ids, never by name.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BulkheadError } from '../../src-shared/errors.js';
import { buildContext } from '../agent/context.js';
import { appendTurn, createConversation } from '../agent/conversations.js';
import { addNote } from '../agent/notes.js';
import { runToolCall, type ToolContext } from '../agent/tools.js';
import { storeDocument } from '../ingest/documents.js';
import { createEmbedder } from '../embed/index.js';
import { readEmbedderConfig } from '../embed/settings.js';
import { searchKnowledge, type SearchResult } from '../retrieval/knowledge.js';
import { vectorIndexFor } from '../index/vectors.js';
import type { TenantHandle } from '../vault/handle.js';
import type { Vault } from '../vault/vault.js';
import { verifyAudit } from '../vault/audit-chain.js';
import { canonicalJson } from '../vault/canonical-json.js';
import { fingerprintBookOf, type FingerprintBook } from '../vault/fingerprints.js';
import { crossTenantFindings, needlesOf, scanFilesForTenants, verifyTempDir, type TenantNeedles } from './leaks.js';

export interface Control {
  id: string;
  title: string;
  /** What was tried, in words. */
  tried: string;
  attempts: number;
  pass: boolean;
  /** What failed (opaque tenant ids and file paths relative to the data folder), empty on a pass. */
  findings: string[];
}

export interface IsolationReport {
  tool: 'bulkhead verify';
  appVersion: string;
  startedAt: string;
  finishedAt: string;
  /** Tenants checked, not counting the scratch tenant. */
  tenants: number;
  controls: Control[];
  passed: boolean;
  /** SHA-256 of the canonical JSON of this report without this field. */
  sha256: string;
}

export interface VerifyOptions {
  appVersion: string;
  onProgress?: (message: string) => void;
  /** Tests only: a known canary, so a test can plant a leak and see it caught. Random otherwise. */
  canary?: string;
  /** The temp folder the file control also scans (default: verifyTempDir()). */
  tempDir?: string;
}

/** Files are scanned in pieces of this size, overlapping by the needle's length. */
const SCAN_CHUNK = 1 << 20;

class ControlLog {
  readonly #controls = new Map<string, Control>();

  control(id: string, title: string, tried: string): Control {
    let c = this.#controls.get(id);
    if (!c) {
      c = { id, title, tried, attempts: 0, pass: true, findings: [] };
      this.#controls.set(id, c);
    }
    return c;
  }

  /** Counts one attempt; a truthy `leak` (a description) fails the control. */
  attempt(c: Control, leak: string | null): void {
    c.attempts += 1;
    if (leak) {
      c.pass = false;
      c.findings.push(leak);
    }
  }

  all(): Control[] {
    return [...this.#controls.values()];
  }
}

/** Does `haystack` contain any needle (as UTF-8 or UTF-16LE text)? */
function containsAny(haystack: string, needles: readonly string[]): boolean {
  return needles.some((n) => haystack.includes(n));
}

function needleBytes(needles: readonly string[]): Buffer[] {
  return needles.flatMap((n) => [Buffer.from(n, 'utf8'), Buffer.from(n, 'utf16le')]);
}

/** Streams a file and reports whether any needle occurs in it, across piece boundaries too. */
function fileContains(file: string, needles: readonly Buffer[]): boolean {
  const overlap = Math.max(...needles.map((n) => n.length)) - 1;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(SCAN_CHUNK + overlap);
    let carried = 0;
    for (;;) {
      const read = fs.readSync(fd, buf, carried, SCAN_CHUNK, null);
      if (read === 0) return false;
      const view = buf.subarray(0, carried + read);
      if (needles.some((n) => view.includes(n))) return true;
      carried = Math.min(overlap, view.length);
      view.copy(buf, 0, view.length - carried);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .map((f) => path.join(dir, f))
    .filter((f) => fs.lstatSync(f, { throwIfNoEntry: false })?.isFile() ?? false);
}

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Puts the canary in every place a tenant keeps content: a document (with vectors), a note, a conversation. */
async function plantCanary(tenant: TenantHandle, canary: string): Promise<void> {
  const text = `Quarterly memo. The vault phrase is ${canary}. Keep it inside this client.`;
  const embedder = createEmbedder(tenant, readEmbedderConfig(tenant));
  const index = vectorIndexFor(tenant, embedder.id, embedder.dimension);
  const vectors = await embedder.embed([text]);
  storeDocument(
    tenant,
    { sourcePath: `verify://canary/${canary}`, title: `Canary ${canary}`, format: 'txt', sha256: sha256(text), bytes: Buffer.byteLength(text), tags: [] },
    [{ ordinal: 0, text, tokenCount: 20, charStart: 0, charEnd: text.length, sha256: sha256(text) }],
    vectors,
    index,
  );
  addNote(tenant, { title: `Canary note ${canary}`, body: text });
  const conversation = createConversation(tenant, `What is the vault phrase ${canary}?`);
  appendTurn(tenant, conversation.id, {
    question: `What is the vault phrase ${canary}?`,
    answer: `It is ${canary}.`,
    mode: 'retrieval-only',
    citations: [],
    model: null,
    manifestHash: null,
  });
}

/**
 * Every way to the data from tenant `t`, asked for the canary: retrieval, each tool (with the
 * scratch tenant's ids where a tool takes an id: ids are per file, so they must resolve in `t`
 * or nowhere), and the context a model would be sent.
 */
async function probeTenant(t: TenantHandle, canary: string, scratchIds: number[], needles: readonly string[], log: ControlLog): Promise<void> {
  const leak = (what: string, value: unknown): string | null =>
    containsAny(JSON.stringify(value) ?? '', needles) ? `tenant ${t.id}: ${what} returned the canary` : null;
  const retrieval = log.control('retrieval', 'Retrieval sees only the open tenant', 'hybrid search for the canary, its words, and a question about it');
  const search = async (q: string): Promise<SearchResult> => {
    const result = await searchKnowledge(t, q);
    // The passages only: the result also echoes the query, which holds the canary by design.
    log.attempt(retrieval, leak(`search "${q.slice(0, 24)}…"`, result.passages));
    return result;
  };
  await search(canary);
  await search('vault phrase quarterly memo');
  const found = await search(`What is the vault phrase ${canary}?`);

  const tools = log.control(
    'tools',
    "The agent's tools reach only the open tenant",
    "search_knowledge for the canary, list_documents, read_document with the scratch tenant's document ids and with a smuggled tenant id",
  );
  const ctx: ToolContext = { tenant: t, cite: (ps) => ps.map((_, i) => `S${i + 1}`) };
  const calls = [
    { name: 'search_knowledge', arguments: JSON.stringify({ query: canary }) },
    { name: 'list_documents', arguments: '{}' },
    ...scratchIds.map((id) => ({ name: 'read_document', arguments: JSON.stringify({ documentId: id }) })),
    { name: 'read_document', arguments: JSON.stringify({ documentId: 1, tenantId: 'another' }) },
  ];
  for (const [i, call] of calls.entries()) {
    log.attempt(tools, leak(`tool ${call.name}`, await runToolCall(ctx, { id: `verify-${i}`, ...call })));
  }

  const context = log.control(
    'context',
    "The model's context holds only the open tenant",
    'context assembled for a question naming the canary, as sent to a model',
  );
  // Built from the search for the question naming the canary, above.
  const assembled = buildContext(t, `What is the vault phrase?`, [], found, { contextTokens: 8192 });
  log.attempt(context, leak('assembled context', assembled.messages));
}

/**
 * Every tenant file, page by page: a damaged one fails the control, is named by id, and is left
 * out of the probes that would open it; the others are still checked.
 */
function soundTenants<T extends { id: string }>(vault: Vault, tenants: T[], log: ControlLog, say: (m: string) => void): T[] {
  say('checking every tenant file page by page');
  const integrity = log.control('integrity', 'Every tenant file passes its integrity check', 'PRAGMA integrity_check on every tenant file');
  return tenants.filter((rec) => {
    const r = vault.checkTenant(rec.id);
    log.attempt(integrity, r.ok ? null : `tenant ${rec.id}: its file is damaged (TENANT_CORRUPT)`);
    return r.ok;
  });
}

/** Opens each tenant once to learn its fingerprints (keyed, in the vault's book) and its file needles. */
function learnTenants(vault: Vault, tenants: readonly { id: string }[], say: (m: string) => void): { book: FingerprintBook | null; needles: TenantNeedles[] } {
  say("learning every tenant's fingerprints (in memory only)");
  const session = vault.openSession();
  let book: FingerprintBook | null = null;
  const needles: TenantNeedles[] = [];
  try {
    for (const rec of tenants) {
      const t = session.open(rec.id);
      book = fingerprintBookOf(t);
      book?.learn(t);
      needles.push(needlesOf(t));
    }
  } finally {
    session.dispose();
  }
  return { book, needles };
}

function crossTenantControl(vault: Vault, tenants: readonly { id: string }[], book: FingerprintBook | null, log: ControlLog, say: (m: string) => void): void {
  say("looking for each tenant's text inside every other tenant");
  const cross = log.control(
    'cross-tenant',
    "No client's name or text inside another client",
    "each tenant's passages (its shared material left out), notes and conversations, searched for every other tenant's name and keyed passage fingerprints",
  );
  if (!book || tenants.length < 2) return;
  const session = vault.openSession();
  try {
    for (const rec of tenants) {
      const { findings } = crossTenantFindings(session.open(rec.id), book);
      log.attempt(cross, null);
      for (const f of findings) log.attempt(cross, `tenant ${f.holder}: its ${f.where} ${f.rowId} holds the name or text of tenant ${f.owner}`);
    }
  } finally {
    session.dispose();
  }
}

function tenantFilesControl(vault: Vault, needles: readonly TenantNeedles[], tempDir: string, log: ControlLog, say: (m: string) => void): void {
  say("scanning the data folder and the temp folder for every tenant's name and text");
  const files = log.control(
    'tenant-files',
    "No client's name or text in any file, and no staged upload left behind",
    "every file under the data folder and the OS temp folder: contents (UTF-8 and UTF-16) for each tenant's name and passage excerpts, file names for its name; staged uploads no live process owns",
  );
  const { findings, files: count } = scanFilesForTenants(vault.paths.dataDir, needles, tempDir);
  for (let i = 0; i < count - findings.length; i++) log.attempt(files, null);
  for (const f of findings) {
    log.attempt(
      files,
      f.what === 'staged upload'
        ? `${f.where}: a staged upload left behind by a process that is gone`
        : `${f.where}: its ${f.what} holds the name or text of tenant ${f.tenantId}`,
    );
  }
}

/** Runs the isolation self-test; the vault must be unlocked. */
/** The vault-level chain (vault-audit.ts): every record's MAC and the head kept in the registry. */
function vaultChainControl(vault: Vault, log: ControlLog): void {
  const c = log.control(
    'vault-audit',
    'The vault audit chain verifies',
    'the HMAC chain of unlocks, presentation and vault-wide operations, and its head in the registry',
  );
  const v = vault.verifyVaultAudit();
  log.attempt(c, v.ok ? null : `vault chain: record ${v.firstBadSeq}: ${v.reason}`);
}

export async function runIsolationCheck(vault: Vault, opts: VerifyOptions): Promise<IsolationReport> {
  if (vault.listTenants().length === 0) throw new BulkheadError('INPUT_INVALID', 'there are no tenants to check yet: create one first');
  const startedAt = new Date().toISOString();
  const say = opts.onProgress ?? (() => {});
  const log = new ControlLog();
  const canary = opts.canary ?? `BHCANARY${crypto.randomBytes(12).toString('hex').toUpperCase()}`;
  const scratchName = `Verify scratch ${crypto.randomBytes(6).toString('hex')}`;
  const needles = [canary, scratchName];
  const all = vault.listTenants();
  const others = soundTenants(vault, all, log, say);
  const learned = learnTenants(vault, others, say);
  crossTenantControl(vault, others, learned.book, log, say);
  const scratch = vault.createTenant(scratchName);
  const session = vault.openSession();
  let scratchDeleted = false;
  try {
    say('planting a canary in a scratch tenant');
    const s = session.open(scratch.id);
    await plantCanary(s, canary);
    const scratchIds = (s.db.prepare('SELECT id FROM documents').pluck().all() as number[]).concat(1, 2);
    // Warm the scratch tenant's caches with the very queries the others get next (same cache keys).
    await searchKnowledge(s, canary);
    await searchKnowledge(s, 'vault phrase quarterly memo');

    for (const [i, rec] of others.entries()) {
      say(`probing tenant ${i + 1} of ${others.length} (${rec.id})`);
      await probeTenant(session.open(rec.id), canary, scratchIds, needles, log);
    }
    session.close();

    say('scanning every file under the data folder');
    const scanFiles = (when: string): void => {
      const files = log.control(
        'files',
        'No plaintext canary or client name in any file',
        'every file under the data folder (tenant files, -wal, -shm, registry, keyring, logs, settings), as UTF-8 and UTF-16',
      );
      const bytes = needleBytes(needles);
      for (const file of filesUnder(vault.paths.dataDir)) {
        log.attempt(
          files,
          fileContains(file, bytes) ? `${path.relative(vault.paths.dataDir, file)} holds the canary or the scratch name in plain text (${when})` : null,
        );
      }
    };
    scanFiles('with the scratch tenant present');

    say("trying every tenant file with another tenant's key");
    const keys = log.control('keys', 'Each tenant file opens only with its own key', "each tenant's file opened with the next tenant's data key");
    for (const r of vault.crossKeyCheck()) log.attempt(keys, r.refused ? null : `tenant ${r.tenantId}: ${r.detail}`);

    say('verifying every audit chain');
    const chains = log.control('audit', 'Every audit chain verifies', "each tenant's HMAC chain and the head kept in the registry");
    const check = vault.openSession();
    try {
      for (const rec of [...others, scratch]) {
        const verdict = verifyAudit(check.open(rec.id));
        log.attempt(chains, verdict.ok ? null : `tenant ${rec.id}: record ${verdict.firstBadSeq}: ${verdict.reason}`);
      }
    } finally {
      check.dispose();
    }
    vaultChainControl(vault, log);

    say('deleting the scratch tenant');
    vault.deleteTenant(scratch.id);
    scratchDeleted = true;
    scanFiles('after the scratch tenant was deleted');
    tenantFilesControl(vault, learned.needles, opts.tempDir ?? verifyTempDir(), log, say);
  } finally {
    session.dispose();
    if (!scratchDeleted) {
      try {
        vault.deleteTenant(scratch.id);
      } catch {
        // reported below: the report cannot pass without the cleanup
      }
    }
  }
  const controls = log.all();
  const body = {
    tool: 'bulkhead verify' as const,
    appVersion: opts.appVersion,
    startedAt,
    finishedAt: new Date().toISOString(),
    tenants: all.length,
    controls,
    passed: controls.every((c) => c.pass),
  };
  return { ...body, sha256: sha256(canonicalJson(body)) };
}

/** Writes the report as JSON and as a readable HTML page; returns both paths. */
export function writeIsolationReport(report: IsolationReport, dir: string): { json: string; html: string } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = report.finishedAt.replace(/[:.]/g, '-');
  const json = path.join(dir, `isolation-report-${stamp}.json`);
  const html = path.join(dir, `isolation-report-${stamp}.html`);
  fs.writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  fs.writeFileSync(html, renderHtml(report), { mode: 0o600 });
  return { json, html };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function renderHtml(r: IsolationReport): string {
  const rows = r.controls
    .map(
      (c) =>
        `<tr class="${c.pass ? 'pass' : 'fail'}"><td>${c.pass ? 'PASS' : 'FAIL'}</td><td><strong>${escapeHtml(c.title)}</strong><br><small>${escapeHtml(c.tried)}</small></td>` +
        `<td>${c.attempts}</td><td>${c.findings.map((f) => escapeHtml(f)).join('<br>') || '—'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Bulkhead isolation report</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2430}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d8dde6;padding:.5rem;text-align:left;vertical-align:top}
tr.pass td:first-child{color:#13795b;font-weight:600}tr.fail td:first-child{color:#b42318;font-weight:600}
.verdict{font-size:1.1rem;font-weight:600;color:${r.passed ? '#13795b' : '#b42318'}}code{font-size:12px}
</style></head><body>
<h1>Bulkhead isolation report</h1>
<p class="verdict">${r.passed ? 'All controls passed' : 'Some controls FAILED'}</p>
<p>Bulkhead ${escapeHtml(r.appVersion)} · ${r.tenants} tenants checked · started ${escapeHtml(r.startedAt)} · finished ${escapeHtml(r.finishedAt)}</p>
<table><thead><tr><th>Result</th><th>Control</th><th>Attempts</th><th>Findings</th></tr></thead><tbody>
${rows}
</tbody></table>
<p><small>SHA-256 of the report (canonical JSON without this field): <code>${r.sha256}</code></small></p>
</body></html>
`;
}
