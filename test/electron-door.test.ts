import { describe, expect, it, vi } from 'vitest'
import { methods, type Handlers, type Input, type Method } from '../src/shared/api'
import { CALL_CHANNEL, EVENT_CHANNEL } from '../src/shared/ipc'
import type { Core } from '../src/main/core'
import { CSP, startDesktop } from '../src/main/doors/electron-door'
import type { ElectronModule, HeadersDetails, WindowOptions } from '../src/main/doors/electron-types'

// MOCK: the Electron runtime cannot be downloaded on this machine, so these tests drive the desktop
// door through a mock of the Electron surface it uses. Browser mode is tested for real elsewhere.

/** One valid input per contract method; the compiler demands an entry for every new method. */
const sampleInputs: { [M in Method]: Input<M> } = {
  'app.info': {},
  'doctor.run': {},
  'labs.list': {},
  'labs.create': { name: 'lab' },
  'labs.remove': { id: 1 },
  'jobs.list': {},
  'jobs.cancel': { id: 'j' },
  'runs.list': {},
  'terminals.open': { nodeId: 1, cols: 80, rows: 24 },
  'terminals.input': { id: 't', data: 'ls\n' },
  'terminals.resize': { id: 't', cols: 100, rows: 30 },
  'terminals.ack': { id: 't', bytes: 10 },
  'terminals.close': { id: 't' },
  'terminals.saveTranscript': { nodeId: 1, title: 'x', text: 'y' },
  'nodes.add': { labId: 1, name: 'a', host: 'h', user: 'root', auth: { kind: 'agent' } },
  'nodes.update': { nodeId: 1, port: 2222 },
  'nodes.remove': { nodeId: 1 },
  'nodes.importSshConfig': {},
  'nodes.connect': { nodeId: 1 },
  'nodes.preflight': { nodeId: 1 },
  'hostKeys.trust': { host: 'h', port: 22, fingerprint: 'SHA256:' + 'A'.repeat(43) },
  'hostKeys.replace': { host: 'h', port: 22, fingerprint: 'SHA256:' + 'A'.repeat(43) },
  'demo.up': {},
  'demo.down': {},
  'demo.status': {},
  'vms.list': { labId: 1 },
  'vms.start': { labId: 1, vm: 'guest', node: 'n1' },
  'vms.stop': { labId: 1, vm: 'guest' },
  'migration.capabilities': { labId: 1 },
  'migration.networks': { labId: 1 },
  'experiments.start': { labId: 1, vm: 'guest', from: 'a', to: 'b', strategies: ['precopy'], workloads: [{ kind: 'idle' }], repetitions: 1 },
  'runs.get': { id: 1 },
  'runs.compare': { ids: [1] },
  'runs.export': { format: 'csv' },
  'runs.query': {},
  'runs.facets': {},
  'runs.record': { id: 1 },
  'runs.detail': { id: 1 },
  'runs.tag': { ids: [1], tag: 't' },
  'runs.untag': { ids: [1], tag: 't' },
  'runs.star': { id: 1, starred: true },
  'runs.note.add': { id: 1, text: 'n' },
  'runs.note.delete': { noteId: 1 },
  'runs.import': { text: '{}' },
  'runs.upload': { base64: 'AA==' },
  'runs.group': { groupBy: ['strategy'] },
  'runs.thesis': {},
  'setup.list': { labId: 1 },
  'setup.run': { labId: 1, wizard: 'qemu', dryRun: true },
  'setup.check': { labId: 1, wizard: 'qemu' },
}

function mockElectron(options: { lock?: boolean } = {}) {
  const appHandlers = new Map<string, (...args: unknown[]) => void>()
  const contentsHandlers = new Map<string, (...args: unknown[]) => void>()
  let windowOpen: ((d: { url: string }) => { action: 'deny' }) | undefined
  let ipc: ((event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown) | undefined
  let headers: ((d: HeadersDetails, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void) | undefined
  let permission: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | undefined
  const created: WindowOptions[] = []
  const sent: unknown[][] = []
  const loaded: string[] = []
  let ready!: () => void
  const whenReady = new Promise<void>((r) => (ready = r))

  const contents = {
    on: (event: string, listener: (...args: unknown[]) => void) => contentsHandlers.set(event, listener),
    setWindowOpenHandler: (h: typeof windowOpen) => (windowOpen = h),
    send: (...args: unknown[]) => sent.push(args),
    isDestroyed: () => false,
  }
  class BrowserWindow {
    webContents = contents
    constructor(opts: WindowOptions) {
      created.push(opts)
    }
    loadFile = async (p: string) => void loaded.push(p)
    loadURL = async (u: string) => void loaded.push(u)
    once() {}
    on() {}
    show() {}
    focus() {}
    restore() {}
    isMinimized = () => false
  }
  const electron = {
    app: {
      requestSingleInstanceLock: () => options.lock ?? true,
      quit: vi.fn(),
      whenReady: () => whenReady,
      getPath: () => '/tmp/user-data',
      on: (event: string, listener: (...args: unknown[]) => void) => appHandlers.set(event, listener),
    },
    BrowserWindow,
    ipcMain: { handle: (_c: string, l: typeof ipc) => (ipc = l) },
    shell: { openExternal: vi.fn(async () => undefined) },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (l: typeof headers) => (headers = l) },
        setPermissionRequestHandler: (h: typeof permission) => (permission = h),
      },
    },
  }
  return {
    electron: electron as unknown as ElectronModule,
    mock: electron,
    created,
    sent,
    loaded,
    appHandlers,
    contentsHandlers,
    ready: async () => {
      ready()
      await new Promise((r) => setTimeout(r, 0))
    },
    ipc: (url: string | null, ...args: unknown[]) => ipc!({ senderFrame: url === null ? null : { url } }, ...args),
    windowOpen: (url: string) => windowOpen!({ url }),
    headers: () => new Promise<Record<string, string[]>>((r) => headers!({ responseHeaders: { a: ['b'] } }, (res) => r(res.responseHeaders))),
    permission: () => new Promise<boolean>((r) => permission!(null, 'media', r)),
  }
}

function fakeCore() {
  const called: string[] = []
  let listener: ((e: unknown) => void) | undefined
  const handlers = Object.fromEntries(methods.map((m) => [m, async () => (called.push(m), `result of ${m}`)])) as unknown as Handlers
  const core = { handlers, subscribe: (l: (e: unknown) => void) => ((listener = l), () => undefined), endSession: () => undefined, close: async () => undefined } as unknown as Core
  return { core, called, emit: (e: unknown) => listener?.(e) }
}

const paths = { preload: '/app/out/preload/index.cjs', rendererDir: '/app/out/renderer' }
const appUrl = 'file:///app/out/renderer/index.html'

describe('desktop door (Electron mocked)', () => {
  it('opens one sandboxed, context-isolated window without Node in the page', async () => {
    const m = mockElectron()
    startDesktop(m.electron, () => fakeCore().core, paths)
    await m.ready()
    expect(m.created).toHaveLength(1)
    expect(m.created[0].webPreferences).toEqual({
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    })
    expect(m.loaded).toEqual(['/app/out/renderer/index.html'])
  })

  it('quits when another instance holds the lock', () => {
    const m = mockElectron({ lock: false })
    startDesktop(m.electron, () => fakeCore().core, paths)
    expect(m.mock.app.quit).toHaveBeenCalled()
  })

  it('adds the strict CSP to every response and denies permission requests', async () => {
    const m = mockElectron()
    startDesktop(m.electron, () => fakeCore().core, paths)
    await m.ready()
    expect(await m.headers()).toEqual({ a: ['b'], 'Content-Security-Policy': [CSP] })
    expect(CSP).toContain("script-src 'self'")
    expect(await m.permission()).toBe(false)
  })

  it('blocks navigation and new windows; only https links go to the OS browser', async () => {
    const m = mockElectron()
    startDesktop(m.electron, () => fakeCore().core, paths)
    m.appHandlers.get('web-contents-created')!({}, { on: (e: string, l: (...a: unknown[]) => void) => m.contentsHandlers.set(e, l), setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' }) => m.contentsHandlers.set('open', h as never) })
    const prevent = vi.fn()
    m.contentsHandlers.get('will-navigate')!({ preventDefault: prevent }, 'https://evil.example')
    m.contentsHandlers.get('will-attach-webview')!({ preventDefault: prevent })
    expect(prevent).toHaveBeenCalledTimes(2)
    const open = m.contentsHandlers.get('open') as unknown as (d: { url: string }) => { action: string }
    expect(open({ url: 'https://github.com/qemu/qemu' })).toEqual({ action: 'deny' })
    expect(open({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
    expect(open({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' })
    expect(m.mock.shell.openExternal).toHaveBeenCalledTimes(1)
    expect(m.mock.shell.openExternal).toHaveBeenCalledWith('https://github.com/qemu/qemu')
  })

  it('wires every contract method through IPC to the core', async () => {
    const m = mockElectron()
    const f = fakeCore()
    startDesktop(m.electron, () => f.core, paths)
    await m.ready()
    for (const method of methods) {
      expect(await m.ipc(appUrl, method, sampleInputs[method])).toEqual({ ok: true, result: `result of ${method}` })
    }
    expect(f.called).toEqual(methods)
  })

  it('refuses calls from any page that is not MigLab, and validates input', async () => {
    const m = mockElectron()
    const f = fakeCore()
    startDesktop(m.electron, () => f.core, paths)
    await m.ready()
    expect(await m.ipc('https://evil.example/', 'labs.list', {})).toMatchObject({ ok: false, error: { code: 'forbidden_sender' } })
    expect(await m.ipc(null, 'labs.list', {})).toMatchObject({ ok: false, error: { code: 'forbidden_sender' } })
    expect(await m.ipc(appUrl, 'labs.create', { name: '' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    expect(f.called).toEqual([])
  })

  it('forwards core events to the window', async () => {
    const m = mockElectron()
    const f = fakeCore()
    startDesktop(m.electron, () => f.core, paths)
    await m.ready()
    f.emit({ type: 'labs.changed' })
    expect(m.sent).toEqual([[EVENT_CHANNEL, { type: 'labs.changed' }]])
    expect(CALL_CHANNEL).toBe('miglab:call')
  })
})
