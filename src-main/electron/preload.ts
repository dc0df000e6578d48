import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { RENDERER_API_KEY, createRendererApi, ipcChannelName } from '../common/ipc-contract.ts';
import type { EventChannel, RequestChannel } from '../common/ipc-contract.ts';

/**
 * The only bridge between the sandboxed window and the main process: the typed API of ipc-contract.ts, nothing else.
 * No ipcRenderer, no Node API and no generic "send anything" function reaches the page. Bundled to one CommonJS file
 * (sandboxed preloads cannot load modules).
 */
contextBridge.exposeInMainWorld(
  RENDERER_API_KEY,
  createRendererApi({
    send: (channel, payload) => ipcRenderer.invoke(ipcChannelName(channel as RequestChannel), payload),
    subscribe: (event, listener) => {
      const channel = ipcChannelName(event as EventChannel);
      const wrapped = (_event: IpcRendererEvent, data: unknown) => listener(data);
      ipcRenderer.on(channel, wrapped);
      return () => void ipcRenderer.removeListener(channel, wrapped);
    },
  }),
);
