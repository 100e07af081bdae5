import type { ApiEvent } from '../shared/events'
import { CALL_CHANNEL, EVENT_CHANNEL } from '../shared/ipc'

// Sandboxed preload: the only bridge between the page and Node. It exposes the contract (call +
// subscribe) and nothing else — never ipcRenderer itself.
interface PreloadElectron {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void }
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>
    on(channel: string, listener: (event: unknown, payload: ApiEvent) => void): void
    removeListener(channel: string, listener: (event: unknown, payload: ApiEvent) => void): void
  }
}
const { contextBridge, ipcRenderer } = require('electron') as PreloadElectron

/** `call` resolves to an outcome ({ok, result} | {ok, error}); the renderer's client turns failures into throws. */
export const bridge = {
  call: (method: string, input: unknown) => ipcRenderer.invoke(CALL_CHANNEL, method, input),
  subscribe: (listener: (event: ApiEvent) => void) => {
    const forward = (_event: unknown, payload: ApiEvent) => listener(payload)
    ipcRenderer.on(EVENT_CHANNEL, forward)
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, forward)
  },
}

contextBridge.exposeInMainWorld('miglab', bridge)
