// The app's own ways out: requests that carry nothing of any tenant (a model file the user asked
// for by URL). They still leave through egress/, so every outbound request is made here and named.
import { BulkheadError } from '../../src-shared/errors.js';

/** What leaves, app-wide, and why: named in errors, never anything of a tenant. */
export type AppEgressPurpose = 'model-download';

export interface AppEgress {
  readonly purpose: AppEgressPurpose;
  /** A fetch that accepts http(s) URLs without credentials in them; redirects are followed (model hosts use CDNs). */
  readonly fetch: typeof fetch;
  /** Refuses (INPUT_INVALID) a URL this purpose may not fetch, before anything is sent. */
  check(url: string | URL): URL;
}

function checkUrl(purpose: AppEgressPurpose, raw: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new BulkheadError('INPUT_INVALID', `"${String(raw).slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BulkheadError('INPUT_INVALID', `a ${purpose} URL must be http(s), not ${url.protocol}`);
  }
  if (url.username || url.password) throw new BulkheadError('INPUT_INVALID', `a ${purpose} URL cannot carry a user name or password`);
  return url;
}

export function appEgress(purpose: AppEgressPurpose): AppEgress {
  return {
    purpose,
    check: (url) => checkUrl(purpose, url),
    fetch: async (input, init) => {
      const url = checkUrl(purpose, typeof input === 'string' || input instanceof URL ? input : input.url);
      return fetch(url, { ...init, redirect: 'follow' });
    },
  };
}
