// The only thing the sandboxed renderer gets: the typed bridge, over four fixed channels.
// Bundled on its own (vite.preload.config.ts) into dist/electron/preload.cjs.
import { contextBridge, ipcRenderer } from 'electron';
import { TRANSPORT, type Bridge, type Result } from '../../src-shared/transport.js';

const listeners = new Map<string, (event: unknown) => void>();
ipcRenderer.on(TRANSPORT.ipc.streamEvent, (_e, streamId: unknown, event: unknown) => {
  if (typeof streamId === 'string') listeners.get(streamId)?.(event);
});

const bridge: Bridge = {
  call: (name, input, view) => ipcRenderer.invoke(TRANSPORT.ipc.call, String(name), input, view) as Promise<Result<unknown>>,
  async stream(name, input, onEvent, streamId, view) {
    listeners.set(String(streamId), onEvent);
    try {
      return (await ipcRenderer.invoke(TRANSPORT.ipc.stream, String(streamId), String(name), input, view)) as Result<unknown>;
    } finally {
      listeners.delete(String(streamId));
    }
  },
  cancel: (streamId) => ipcRenderer.send(TRANSPORT.ipc.cancel, String(streamId)),
  upload: (name, bytes, view) => ipcRenderer.invoke(TRANSPORT.ipc.upload, String(name), bytes, view) as Promise<Result<unknown>>,
};

contextBridge.exposeInMainWorld('bulkhead', bridge);
