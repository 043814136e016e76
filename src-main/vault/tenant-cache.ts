// The one place that keeps memos for an open tenant outside its file: codes and int8 copies in
// memory, stems, document frequencies, prepared statements, what the vector worker holds, write
// counters. Owned by the TenantHandle (handle.cache) and emptied when it closes: each entry is
// released (by its key's release, else by wipe: typed arrays and WebAssembly memories zero-filled,
// maps cleared), so nothing of a closed tenant stays reachable from a module-level cache, and
// nothing is shared between tenants, since every handle has its own. Nothing here is written
// anywhere. Modules declare their keys once, at module level:
//
//   const CODES = cacheKey<Codes>('vector codes');
//   const codes = tenant.cache.get(CODES);                  // undefined if not kept
//   const stems = tenant.cache.get(STEMS, () => new Map()); // kept from now on
//
// A replaced entry is not wiped (a search or the vector worker may still read it); the garbage
// collector takes it. A closed cache keeps nothing: a value set after the close (a background
// load that finished late) is released at once.

/** A typed key of one kind of per-tenant memo. */
export interface CacheKey<T> {
  readonly name: string;
  /** Lets go of a value when its tenant closes (default: wipe). */
  readonly release: (value: T) => void;
}

export function cacheKey<T>(name: string, release: (value: T) => void = wipe): CacheKey<T> {
  return { name, release };
}

/**
 * Zero-fills what a value holds: typed arrays and WebAssembly memories are zeroed, objects with a
 * zero() method zero themselves, maps and sets are emptied (their values wiped first), arrays and
 * plain objects are walked (a few levels deep).
 */
export function wipe(value: unknown, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (ArrayBuffer.isView(value)) {
    new Uint8Array(value.buffer, value.byteOffset, value.byteLength).fill(0);
  } else if (value instanceof WebAssembly.Memory) {
    new Uint8Array(value.buffer).fill(0);
  } else if (typeof (value as { zero?: unknown }).zero === 'function') {
    (value as { zero: () => void }).zero();
  } else if (value instanceof Map) {
    for (const v of value.values()) wipe(v, depth + 1);
    value.clear();
  } else if (value instanceof Set) {
    value.clear();
  } else if (!(value instanceof Promise)) {
    for (const v of Object.values(value)) wipe(v, depth + 1);
  }
}

export class TenantCache {
  readonly #entries = new Map<CacheKey<never>, unknown>();
  #closed = false;

  /** The value kept under `key`; with `build`, builds and keeps one when there is none (not once closed). */
  get<T>(key: CacheKey<T>): T | undefined;
  get<T>(key: CacheKey<T>, build: () => T): T;
  get<T>(key: CacheKey<T>, build?: () => T): T | undefined {
    const k = key as CacheKey<never>;
    if (this.#entries.has(k)) return this.#entries.get(k) as T;
    if (!build) return undefined;
    const value = build();
    this.set(key, value);
    return value;
  }

  set<T>(key: CacheKey<T>, value: T): void {
    if (this.#closed) {
      releaseQuietly(key, value);
      return;
    }
    this.#entries.set(key as CacheKey<never>, value);
  }

  delete<T>(key: CacheKey<T>): void {
    this.#entries.delete(key as CacheKey<never>);
  }

  /** How many entries are kept (0 once closed). */
  get size(): number {
    return this.#entries.size;
  }

  /** The names of the keys with an entry (tests, diagnostics: names of kinds, never tenant data). */
  names(): string[] {
    return [...this.#entries.keys()].map((k) => k.name);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal the handle's close: releases every entry (one failing does not keep the others) and keeps nothing more. */
  close(): void {
    this.#closed = true;
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const [key, value] of entries) releaseQuietly(key as CacheKey<unknown>, value);
  }
}

function releaseQuietly<T>(key: CacheKey<T>, value: T): void {
  try {
    key.release(value);
  } catch {
    // one failed release must not keep the others
  }
}
