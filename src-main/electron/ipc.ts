import type { IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { ipcMain } from 'electron';
import { TRANSPORT } from '../../src-shared/transport.js';
import { invokeCall, invokeStream, toApiError } from '../api/dispatch.js';
import type { ConsoleSession } from '../api/session.js';
import { APP_ORIGIN } from './window.js';

/** Only the app's own main frame may call: not a subframe, not a page it navigated to. */
function fromApp(e: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const frame = e.senderFrame;
  return frame !== null && frame === e.sender.mainFrame && new URL(frame.url).origin === APP_ORIGIN;
}

const refused = { ok: false, error: { code: 'UNAUTHORIZED', message: 'this window may not call the console' } } as const;

/** Registers the four channels of the contract; every payload is validated by the dispatcher. */
export function registerIpc(session: ConsoleSession): void {
  const running = new Map<string, AbortController>();

  ipcMain.handle(TRANSPORT.ipc.call, (e, name: unknown, input: unknown) => (fromApp(e) ? invokeCall(session, name, input) : refused));

  ipcMain.handle(TRANSPORT.ipc.stream, async (e, streamId: unknown, name: unknown, input: unknown) => {
    if (!fromApp(e) || typeof streamId !== 'string' || streamId.length > 64 || running.has(streamId)) return refused;
    const stop = new AbortController();
    running.set(streamId, stop);
    try {
      return await invokeStream(session, name, input, (event) => e.sender.send(TRANSPORT.ipc.streamEvent, streamId, event), stop.signal);
    } finally {
      running.delete(streamId);
    }
  });

  ipcMain.on(TRANSPORT.ipc.cancel, (e, streamId: unknown) => {
    if (fromApp(e) && typeof streamId === 'string') running.get(streamId)?.abort();
  });

  ipcMain.handle(TRANSPORT.ipc.upload, async (e, name: unknown, bytes: unknown) => {
    if (!fromApp(e)) return refused;
    try {
      if (typeof name !== 'string' || !(bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes))) throw new TypeError('bad upload');
      const { handle } = session.scope();
      const buf = ArrayBuffer.isView(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
      return { ok: true, value: await session.uploads.add(handle.id, name, buf) };
    } catch (err) {
      return { ok: false, error: err instanceof TypeError ? { code: 'INPUT_INVALID', message: 'an upload is a file name and its bytes' } : toApiError(err) };
    }
  });
}
