// What identifies a client's text, for finding it where it must not be: its name and a sample of
// distinctive word sequences (SHINGLE_WORDS words) from its passages. Held in memory only, for
// one unlock, as HMACs under a key made at unlock (so equal text in two tenants compares equal,
// and nothing comparable outlives the unlock); never printed, never written.
import crypto from 'node:crypto';
import type { TenantHandle } from './handle.js';
import { sharedDocumentIds } from './shared-material.js';

/** Words per passage fingerprint: long enough that a match is a copy, not a coincidence. */
export const SHINGLE_WORDS = 8;
/** A name is matched on at most this many of its words. */
const NAME_WORDS = 8;
/**
 * About one shingle in SAMPLE_EVERY is kept, chosen by its first word (so every tenant keeps the
 * same ones, and a matcher hashes only those); from at most SAMPLE_CHUNKS passages spread over
 * the tenant, at most MAX_PRINTS: learning costs a bounded few tens of milliseconds.
 */
const SAMPLE_EVERY = 8;
const SAMPLE_CHUNKS = 2000;
const MAX_PRINTS = 20_000;
/** A one-word name shorter than this is not looked for (it would match ordinary words). */
const MIN_NAME_CHARS = 4;

/** Text as the matcher sees it: NFKC, lower case, words of letters and digits. */
export function foldWords(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

export interface TenantPrints {
  /** Keyed hash of the folded name, and its length in words (0: too short to look for). */
  name: { hash: string; words: number };
  shingles: Set<string>;
}

/** One unlock's keyed fingerprints of the tenants. Destroyed (key zeroed) on lock. */
export class FingerprintBook {
  readonly #key = crypto.randomBytes(32);
  readonly #names = new Map<string, { name: string; hash: string; words: number }>();
  readonly #shingles = new Map<string, Set<string>>();

  constructor(private readonly tenants: () => readonly { id: string; name: string }[]) {}

  hash(text: string): string {
    return crypto.createHmac('sha256', this.#key).update(text).digest('base64url').slice(0, 22);
  }

  /** Every tenant's name print, refreshed from the registry (names change by rename). */
  names(): Map<string, { hash: string; words: number }> {
    const seen = new Set<string>();
    for (const t of this.tenants()) {
      seen.add(t.id);
      const known = this.#names.get(t.id);
      if (known?.name === t.name) continue;
      const words = foldWords(t.name).slice(0, NAME_WORDS);
      const short = words.length === 0 || (words.length === 1 && words[0]!.length < MIN_NAME_CHARS);
      this.#names.set(t.id, { name: t.name, hash: this.hash(words.join(' ')), words: short ? 0 : words.length });
    }
    for (const id of this.#names.keys()) if (!seen.has(id)) this.#names.delete(id);
    return this.#names;
  }

  /** Learns the open tenant's passage fingerprints (its shared material left out). */
  learn(tenant: TenantHandle): TenantPrints {
    const shared = sharedDocumentIds(tenant);
    const prints = new Set<string>();
    // Rowid seeks spread over the id range: a few thousand page reads, never a scan of the table.
    const range = tenant.db.prepare('SELECT min(id) AS lo, max(id) AS hi FROM chunks').get() as { lo: number | null; hi: number | null };
    const next = tenant.db.prepare('SELECT id, document_id AS doc, text FROM chunks WHERE id >= ? ORDER BY id LIMIT 1');
    if (range.lo !== null && range.hi !== null) {
      const step = Math.max(1, (range.hi - range.lo + 1) / SAMPLE_CHUNKS);
      let last = -1;
      for (let at = range.lo; at <= range.hi && prints.size < MAX_PRINTS; at += step) {
        const row = next.get(Math.max(Math.ceil(at), last + 1)) as { id: number; doc: number; text: string } | undefined;
        if (!row) break;
        last = row.id;
        if (shared.has(row.doc)) continue;
        for (const h of this.shinglesOf(foldWords(row.text))) {
          prints.add(h);
          if (prints.size >= MAX_PRINTS) break;
        }
      }
    }
    this.#shingles.set(tenant.id, prints);
    return { name: this.names().get(tenant.id)!, shingles: prints };
  }

  learned(id: string): Set<string> | undefined {
    return this.#shingles.get(id);
  }

  /** Keyed hashes of the sampled runs of SHINGLE_WORDS words (see `anchored`). */
  *shinglesOf(words: readonly string[]): Generator<string> {
    for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) {
      if (anchored(words[i]!)) yield this.hash(words.slice(i, i + SHINGLE_WORDS).join(' '));
    }
  }

  /**
   * A matcher for text shown in tenant `self`: it looks for every other tenant's prints. With
   * `exceptOwn`, a passage print `self` holds too is not looked for (text the open tenant has
   * itself, such as a template both use, is no news to it); names are always looked for.
   */
  watcher(self: string, opts: { exceptOwn?: boolean } = {}): ClientWatcher {
    return new ClientWatcher(this, self, opts.exceptOwn ? (this.#shingles.get(self) ?? new Set()) : new Set());
  }

  destroy(): void {
    this.#key.fill(0);
    this.#names.clear();
    this.#shingles.clear();
  }
}

/**
 * Looks for other tenants' names and learned fingerprints in text as it grows (a streamed
 * answer), checking each run of words once, as soon as it is complete. `scan` checks one
 * whole text with the same sets (for the verify control, over many texts).
 */
export class ClientWatcher {
  #words: string[] = [];
  /** Where each complete word ends in the text pushed so far. */
  #ends: number[] = [];
  #text = '';
  readonly #hits = new Set<string>();
  /** Name print -> [words, tenant id]. */
  readonly #names = new Map<string, [number, string]>();
  readonly #shingles: [string, Set<string>][] = [];
  readonly #lengths: number[];

  constructor(
    private readonly book: FingerprintBook,
    self: string,
    private readonly own: ReadonlySet<string>,
  ) {
    for (const [id, n] of book.names()) {
      if (id === self) continue;
      if (n.words > 0) this.#names.set(n.hash, [n.words, id]);
      const s = book.learned(id);
      if (s && s.size > 0) this.#shingles.push([id, s]);
    }
    const lengths = new Set([...this.#names.values()].map(([w]) => w));
    if (this.#shingles.length > 0) lengths.add(SHINGLE_WORDS);
    this.#lengths = [...lengths];
  }

  /** The longest run of words looked for: text may be shown only this many words behind. */
  get lag(): number {
    return Math.max(0, ...this.#lengths);
  }

  /** Ids of the other tenants found so far. */
  get hits(): ReadonlySet<string> {
    return this.#hits;
  }

  /** Adds text; returns how many characters from the start are safe to show. */
  push(text: string): number {
    this.#text += text;
    const re = /[\p{L}\p{N}]+/gu;
    re.lastIndex = this.#ends.at(-1) ?? 0;
    for (let m = re.exec(this.#text); m; m = re.exec(this.#text)) {
      const end = m.index + m[0].length;
      if (end === this.#text.length) break; // the word may go on in the next piece
      this.#complete(m[0], end);
      re.lastIndex = end;
    }
    return this.#safeEnd();
  }

  /** The text is complete: checks its last word; returns whether any other client was found. */
  finish(): boolean {
    const re = /[\p{L}\p{N}]+/gu;
    re.lastIndex = this.#ends.at(-1) ?? 0;
    for (let m = re.exec(this.#text); m; m = re.exec(this.#text)) this.#complete(m[0], m.index + m[0].length);
    return this.#hits.size > 0;
  }

  /** One whole text, on its own: the ids of the other tenants it holds prints of. */
  scan(text: string): string[] {
    this.#words = [];
    this.#ends = [];
    this.#text = '';
    this.#hits.clear();
    this.push(text);
    this.finish();
    return [...this.#hits];
  }

  #complete(raw: string, end: number): void {
    for (const w of foldWords(raw)) {
      this.#words.push(w);
      this.#ends.push(end);
      const n = this.#words.length;
      for (const len of this.#lengths) {
        if (len > n) continue;
        if (this.#names.size > 0) {
          const name = this.#names.get(this.book.hash(this.#words.slice(n - len, n).join(' ')));
          if (name?.[0] === len) this.#hits.add(name[1]);
        }
        if (len === SHINGLE_WORDS && this.#shingles.length > 0 && anchored(this.#words[n - len]!)) {
          const h = this.book.hash(this.#words.slice(n - len, n).join(' '));
          if (!this.own.has(h)) for (const [id, set] of this.#shingles) if (set.has(h)) this.#hits.add(id);
        }
      }
    }
  }

  #safeEnd(): number {
    if (this.#hits.size > 0) return 0;
    const keep = this.lag; // the last `lag` complete words, and any word still growing, wait
    if (keep === 0) return this.#ends.at(-1) ?? 0;
    const i = this.#ends.length - keep - 1;
    return i >= 0 ? this.#ends[i]! : 0;
  }
}

/** A shingle is sampled when its first word's (unkeyed, cheap) hash falls in one bucket of SAMPLE_EVERY. */
function anchored(word: string): boolean {
  let h = 2166136261;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
  return (h >>> 0) % SAMPLE_EVERY === 0;
}

/** Whether `text` shown in tenant `self` mentions another client (by name or fingerprint). */
export function mentionsAnotherClient(book: FingerprintBook, self: string, text: string): boolean {
  const w = book.watcher(self, { exceptOwn: true });
  w.push(text);
  return w.finish();
}

const books = new WeakMap<TenantHandle, FingerprintBook>();

/** The vault gives each handle it opens the book of its unlock. */
export function attachFingerprintBook(handle: TenantHandle, book: FingerprintBook): void {
  books.set(handle, book);
}

/** The book of the unlock `handle` belongs to; null for handles opened outside a vault's sessions. */
export function fingerprintBookOf(handle: TenantHandle): FingerprintBook | null {
  return books.get(handle) ?? null;
}
