import type { IpcMainEvent, IpcMainInvokeEvent, WebContents } from 'electron';
import { ipcMain } from 'electron';
import { TRANSPORT } from '../../src-shared/transport.js';
import { UPLOAD_SCOPE } from '../api/call-scope.js';
import { invokeCall, invokeStream, toApiError } from '../api/dispatch.js';
import type { ConsoleHost } from '../api/host.js';
import { ConsoleSession } from '../api/session.js';
import { APP_ORIGIN } from './window.js';

/** Only the app's own main frame may call: not a subframe, not a page it navigated to. */
function fromApp(e: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const frame = e.senderFrame;
  return frame !== null && frame === e.sender.mainFrame && new URL(frame.url).origin === APP_ORIGIN;
}

const refused = { ok: false, error: { code: 'UNAUTHORIZED', message: 'this window may not call the console' } } as const;

/** A call's view tenant as the preload passed it: a string, or null for none. */
const viewOf = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : null);

/**
 * One session per window: the first call of a window's contents makes its session, which ends
 * (its tenant closed) when the window goes away. Each window unlocks for itself.
 */
export function windowSessions(host: ConsoleHost): (contents: WebContents) => ConsoleSession {
  const sessions = new Map<number, ConsoleSession>();
  return (contents) => {
    let s = sessions.get(contents.id);
    if (!s) {
      const session = new ConsoleSession(host);
      sessions.set(contents.id, session);
      contents.once('destroyed', () => {
        sessions.delete(contents.id);
        session.dispose();
      });
      s = session;
    }
    return s;
  };
}

/** Registers the four channels of the contract; every payload is validated by the dispatcher. */
export function registerIpc(host: ConsoleHost): void {
  const running = new Map<string, AbortController>();
  const sessionOf = windowSessions(host);

  ipcMain.handle(TRANSPORT.ipc.call, (e, name: unknown, input: unknown, view: unknown) =>
    fromApp(e) ? invokeCall(sessionOf(e.sender), name, input, viewOf(view)) : refused,
  );

  ipcMain.handle(TRANSPORT.ipc.stream, async (e, streamId: unknown, name: unknown, input: unknown, view: unknown) => {
    if (!fromApp(e) || typeof streamId !== 'string' || streamId.length > 64 || running.has(streamId)) return refused;
    const stop = new AbortController();
    running.set(streamId, stop);
    try {
      const send = (event: unknown): void => e.sender.send(TRANSPORT.ipc.streamEvent, streamId, event);
      return await invokeStream(sessionOf(e.sender), name, input, send, stop.signal, viewOf(view));
    } finally {
      running.delete(streamId);
    }
  });

  ipcMain.on(TRANSPORT.ipc.cancel, (e, streamId: unknown) => {
    if (fromApp(e) && typeof streamId === 'string') running.get(streamId)?.abort();
  });

  ipcMain.handle(TRANSPORT.ipc.upload, async (e, name: unknown, bytes: unknown, view: unknown) => {
    if (!fromApp(e)) return refused;
    const session = sessionOf(e.sender);
    try {
      if (typeof name !== 'string' || !(bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes))) throw new TypeError('bad upload');
      session.touch();
      session.admit(UPLOAD_SCOPE, viewOf(view));
      const { handle } = session.scope();
      const buf = ArrayBuffer.isView(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
      return { ok: true, value: await session.uploads.add(handle.id, name, buf) };
    } catch (err) {
      return { ok: false, error: err instanceof TypeError ? { code: 'INPUT_INVALID', message: 'an upload is a file name and its bytes' } : toApiError(err) };
    }
  });
}
