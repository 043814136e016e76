import { BulkheadError } from '../../src-shared/errors.js';
import { closeTenantHandle, type TenantHandle } from './handle.js';

/**
 * The one open tenant of a window or a CLI run. Opening another tenant closes the current one
 * first and zeroes its key, so two tenants are never open side by side in one session.
 */
export class TenantSession {
  #current: TenantHandle | null = null;
  #disposed = false;

  constructor(
    private readonly opener: (id: string) => TenantHandle,
    private readonly onDispose: (s: TenantSession) => void,
    /** Runs while the tenant being closed is still open (its last reads). */
    private readonly beforeClose: (h: TenantHandle) => void = () => undefined,
  ) {}

  get current(): TenantHandle | null {
    return this.#current;
  }

  open(id: string): TenantHandle {
    if (this.#disposed) throw new BulkheadError('LOCKED', 'this session ended when the vault was locked');
    this.close();
    this.#current = this.opener(id);
    return this.#current;
  }

  close(): void {
    const h = this.#current;
    this.#current = null;
    if (!h) return;
    this.beforeClose(h);
    closeTenantHandle(h);
  }

  dispose(): void {
    this.close();
    this.#disposed = true;
    this.onDispose(this);
  }
}
