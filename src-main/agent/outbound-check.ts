// Answers checked on the way out, for every provider: before a model's answer or a tool's result
// is shown, stored or fed back to the model, it is checked against the other clients' names and
// fingerprints (keyed hashes in the vault's book, see vault/fingerprints.ts). A hit is withheld,
// recorded in the tenant's chain as ids only, and shown as WITHHELD. An endpoint's own caches are
// beyond our control; this check still holds there. It sits in the agent's loop, which every
// provider's turns pass through.
import { fingerprintBookOf, mentionsAnotherClient, type ClientWatcher, type FingerprintBook } from '../vault/fingerprints.js';
import type { TenantHandle } from '../vault/handle.js';
import { recordLedger } from './ledger.js';

export const WITHHELD = 'withheld: it mentioned another client';

/** Whether this text, about to leave the agent in `tenant`, names or quotes another client. */
export function mentionsOtherClient(tenant: TenantHandle, text: string): boolean {
  const book = bookOf(tenant);
  return book !== null && text !== '' && mentionsAnotherClient(book, tenant.id, text);
}

/** The unlock's book, with the open tenant's own prints learned (they are left out of the check). */
function bookOf(tenant: TenantHandle): FingerprintBook | null {
  const book = fingerprintBookOf(tenant);
  if (book && !book.learned(tenant.id)) book.learn(tenant);
  return book;
}

export function recordWithheld(tenant: TenantHandle, data: { where: 'answer' | 'tool'; step: number; toolCallId?: string }): void {
  recordLedger(tenant, 'answer.withheld', { where: data.where, step: data.step, toolCallId: data.toolCallId ?? null });
}

/**
 * Streams one model turn through the check: text is passed on a few words behind the model
 * (the longest name or fingerprint looked for), so nothing of another client is shown before
 * it is recognised; after a hit nothing more is passed on.
 */
export class GuardedStream {
  readonly #watcher: ClientWatcher | null;
  #shown = 0;
  #text = '';

  constructor(
    tenant: TenantHandle,
    private readonly emit: (text: string) => void,
  ) {
    this.#watcher = bookOf(tenant)?.watcher(tenant.id, { exceptOwn: true }) ?? null;
  }

  push(piece: string): void {
    this.#text += piece;
    if (!this.#watcher) return this.emit(piece);
    const safe = this.#watcher.push(piece);
    this.#flush(safe);
  }

  /** The turn is over: true when it mentioned another client (and its rest was not shown). */
  finish(): boolean {
    if (!this.#watcher) return false;
    if (this.#watcher.finish()) return true;
    this.#flush(this.#text.length);
    return false;
  }

  get withheld(): boolean {
    return (this.#watcher?.hits.size ?? 0) > 0;
  }

  #flush(upTo: number): void {
    if (this.withheld || upTo <= this.#shown) return;
    this.emit(this.#text.slice(this.#shown, upTo));
    this.#shown = upTo;
  }
}
