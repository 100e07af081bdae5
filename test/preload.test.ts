import { existsSync, readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import { describe, expect, it, vi } from 'vitest'
import { CALL_CHANNEL, EVENT_CHANNEL } from '../src/shared/ipc'

// MOCK: the preload runs inside Electron's sandbox. This loads the BUILT preload (what Electron
// loads) in a bare VM context whose `require('electron')` returns a recording contextBridge and
// ipcRenderer, so we see exactly what the page receives.
const built = new URL('../out/preload/index.cjs', import.meta.url)

async function loadPreload() {
  const exposed: Record<string, unknown> = {}
  const listeners = new Map<string, (...a: unknown[]) => void>()
  const ipcRenderer = {
    invoke: vi.fn(async (...args: unknown[]) => ({ ok: true, result: args })),
    on: (channel: string, l: (...a: unknown[]) => void) => listeners.set(channel, l),
    removeListener: (channel: string) => listeners.delete(channel),
  }
  const require = (id: string) => {
    // A sandboxed preload can require little beyond 'electron'; the bundle must not need more.
    if (id !== 'electron') throw new Error(`preload required ${id}`)
    return { contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) }, ipcRenderer }
  }
  if (!existsSync(built)) throw new Error('out/preload/index.cjs is missing: run `npm run build` first (npm test does).')
  const module = { exports: {} }
  runInNewContext(readFileSync(built, 'utf8'), { require, module, exports: module.exports })
  return { exposed, ipcRenderer, listeners }
}

describe('preload (Electron mocked)', () => {
  it('exposes only the contract — call and subscribe — never ipcRenderer', async () => {
    const { exposed } = await loadPreload()
    expect(Object.keys(exposed)).toEqual(['miglab'])
    expect(Object.keys(exposed.miglab as object).sort()).toEqual(['call', 'subscribe'])
  })

  it('sends calls on the call channel and delivers events until unsubscribed', async () => {
    const { exposed, ipcRenderer, listeners } = await loadPreload()
    const bridge = exposed.miglab as { call: (m: string, i: unknown) => Promise<unknown>; subscribe: (l: (e: unknown) => void) => () => void }
    await bridge.call('labs.list', {})
    expect(ipcRenderer.invoke).toHaveBeenCalledWith(CALL_CHANNEL, 'labs.list', {})
    const got: unknown[] = []
    const stop = bridge.subscribe((e) => got.push(e))
    listeners.get(EVENT_CHANNEL)!({ sender: 'ignored' }, { type: 'labs.changed' })
    expect(got).toEqual([{ type: 'labs.changed' }])
    stop()
    expect(listeners.has(EVENT_CHANNEL)).toBe(false)
  })
})
