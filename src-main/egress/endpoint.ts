import dns from 'node:dns/promises';
import net from 'node:net';
import { BulkheadError } from '../../src-shared/errors.js';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  if (net.isIPv4(ip)) return ip.startsWith('127.');
  if (net.isIPv6(ip)) return ip === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(ip) || ip === '0:0:0:0:0:0:0:1';
  return false;
}

/** The host an endpoint URL names (brackets of an IPv6 literal removed), for messages and the ledger. */
export function endpointHost(baseUrl: string): string {
  return new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
}

/**
 * The "local models only" check: every address the host resolves to must be loopback, so a
 * name that points anywhere else is refused before a single byte is sent to it. Returns the
 * (loopback) addresses it checked.
 */
export async function assertLoopbackEndpoint(url: string | URL, what = 'model host'): Promise<string[]> {
  const host = endpointHost(String(url));
  let addresses: string[];
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch (err) {
      throw new BulkheadError('MODEL_NOT_ALLOWED', `this tenant allows local models only, and the ${what} "${host}" does not resolve`, { cause: err });
    }
  }
  const outside = addresses.filter((a) => !isLoopbackAddress(a));
  if (addresses.length === 0 || outside.length > 0) {
    throw new BulkheadError(
      'MODEL_NOT_ALLOWED',
      `this tenant allows local models only (loopback: 127.0.0.0/8, ::1, localhost), and the ${what} "${host}" is not one`,
    );
  }
  return addresses;
}

/**
 * The same answer without asking DNS: true only for a loopback literal or `localhost`. Used where
 * no lookup can be awaited (deciding at open which stored endpoints to hold): a name that happens
 * to resolve to loopback is held, and confirming it runs the full check.
 */
export function looksLoopback(url: string | URL): boolean {
  let host: string;
  try {
    host = endpointHost(String(url)).toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || isLoopbackAddress(host);
}

/** The URL with its host replaced by a checked address, so fetch does not resolve the name again. */
function pinned(url: URL, address: string): URL {
  const out = new URL(url);
  out.hostname = net.isIPv6(address) ? `[${address}]` : address;
  return out;
}

/**
 * Sends one request under the "local models only" policy when `localOnly`: every request (retries
 * included) is checked as it is made, redirects are refused, so no path around the check sends
 * this tenant's context elsewhere. Over http a host name is pinned to the addresses just checked
 * (tried in turn), so a DNS answer that changes in between cannot redirect the request; over https
 * the name must stay for TLS.
 */
export async function sendChecked(localOnly: boolean, what: string, input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Promise<Response> {
  const request = { ...init, redirect: 'error' as const };
  if (!localOnly) return fetch(input, request);
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const addresses = await assertLoopbackEndpoint(url, what);
  if (url.protocol !== 'http:' || net.isIP(endpointHost(url.href)) || !(typeof input === 'string' || input instanceof URL)) return fetch(input, request);
  let lastError: unknown;
  for (const address of addresses) {
    try {
      return await fetch(pinned(url, address), request);
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      lastError = err;
    }
  }
  throw lastError;
}
