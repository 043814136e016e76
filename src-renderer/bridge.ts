// The renderer's only way out: Electron's preload bridge, or the web host over fetch. Both
// carry the same contract; main checks every name and payload.
import { TRANSPORT, type ApiError, type Bridge, type Result } from '../src-shared/contract.js';

declare global {
  interface Window {
    bulkhead?: Bridge;
  }
}

const networkError = (message: string): Result<never> => ({ ok: false, error: { code: 'UNAVAILABLE', message } });

/** The per-launch token the web host printed, read from the address fragment; kept in memory only. */
function tokenFromLocation(): string {
  const m = /(?:^|[#&])token=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  return m?.[1] ?? '';
}

async function readResult(res: Response): Promise<Result<unknown>> {
  try {
    return (await res.json()) as Result<unknown>;
  } catch {
    return networkError(`the console answered ${res.status} without a result`);
  }
}

/** Splits a text/event-stream body into (event, data) pairs as they arrive. */
async function* serverEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      yield { event, data };
    }
  }
}

/**
 * The web host's bridge. The page trades the launch token for a session token of its own once
 * (so each tab is its own server session) and keeps it in memory only; every request names the
 * tenant the view shows.
 */
export function webBridge(token = tokenFromLocation()): Bridge {
  const running = new Map<string, AbortController>();
  let session: Promise<string> | null = null;
  const pageSession = (): Promise<string> =>
    (session ??= fetch(TRANSPORT.http.session, { method: 'POST', cache: 'no-store', credentials: 'omit', headers: { [TRANSPORT.headers.token]: token } })
      .then(readResult)
      .then((r) => (r.ok ? (r.value as { session: string }).session : ''))
      .catch(() => {
        session = null;
        return '';
      }));
  const post = async (
    path: string,
    body: BodyInit,
    type: string,
    view: string | null,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> => {
    const headers: Record<string, string> = { 'content-type': type, [TRANSPORT.headers.session]: await pageSession(), ...extra };
    if (view) headers[TRANSPORT.headers.tenant] = view;
    return fetch(path, { method: 'POST', body, signal: signal ?? null, cache: 'no-store', credentials: 'omit', headers });
  };

  return {
    async call(name, input, view) {
      try {
        return await readResult(await post(TRANSPORT.http.call + encodeURIComponent(name), JSON.stringify(input ?? {}), 'application/json', view));
      } catch {
        return networkError('the console is not running (start it again with `npm run web`)');
      }
    },
    async stream(name, input, onEvent, streamId, view) {
      const stop = new AbortController();
      running.set(streamId, stop);
      try {
        const res = await post(TRANSPORT.http.stream + encodeURIComponent(name), JSON.stringify(input ?? {}), 'application/json', view, {}, stop.signal);
        if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return await readResult(res);
        for await (const { event, data } of serverEvents(res.body)) {
          if (event === 'event') onEvent(JSON.parse(data) as unknown);
          else if (event === 'result') return JSON.parse(data) as Result<unknown>;
        }
        return networkError('the console closed the stream before its result');
      } catch {
        if (stop.signal.aborted) return { ok: false, error: { code: 'CANCELLED', message: 'stopped' } satisfies ApiError };
        return networkError('the connection to the console was lost');
      } finally {
        running.delete(streamId);
      }
    },
    cancel(streamId) {
      running.get(streamId)?.abort();
    },
    async upload(name, bytes, view) {
      try {
        return await readResult(
          await post(TRANSPORT.http.upload, bytes, 'application/octet-stream', view, { [TRANSPORT.headers.fileName]: encodeURIComponent(name) }),
        );
      } catch {
        return networkError('the upload did not reach the console');
      }
    },
  };
}

export const bridge: Bridge = window.bulkhead ?? webBridge();
