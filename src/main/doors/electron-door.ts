import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MigLabError } from '../../shared/errors'
import { CALL_CHANNEL, EVENT_CHANNEL } from '../../shared/ipc'
import type { Core } from '../core'
import { dispatch } from './dispatch'
import type { BrowserWindowLike, ElectronModule, WindowOptions } from './electron-types'

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

export interface DesktopPaths {
  /** Built preload script. */
  preload: string
  /** Built renderer folder (holds index.html). */
  rendererDir: string
  /** Dev server URL during `electron-vite dev`. */
  devUrl?: string
}

/** The one window is the one session: its terminals close with it. */
const DESKTOP = { session: 'desktop' }

export function windowOptions(preload: string): WindowOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'MigLab',
    show: false,
    webPreferences: { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false },
  }
}

/** Only https links leave the app, and only to the OS browser. */
export function isExternalLink(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:'
  } catch {
    return false
  }
}

/**
 * The desktop door: one sandboxed window, the contract over IPC with the sender checked, every
 * navigation and new window refused, a strict CSP on every response, and one instance at a time.
 */
export function startDesktop(electron: ElectronModule, makeCore: (userData: string) => Core, paths: DesktopPaths): void {
  const { app, BrowserWindow, ipcMain, shell, session } = electron
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  const appOrigin = paths.devUrl ? new URL(paths.devUrl).origin : undefined
  const rendererUrl = pathToFileURL(join(paths.rendererDir, 'index.html')).href
  const trustedSender = (url: string | undefined): boolean =>
    !!url && (appOrigin ? new URL(url).origin === appOrigin : url.split('#')[0] === rendererUrl)

  let window: BrowserWindowLike | undefined
  let core: Core | undefined

  app.on('second-instance', () => {
    if (!window) return
    if (window.isMinimized()) window.restore()
    window.focus()
  })

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault())
    contents.on('will-redirect', (event) => event.preventDefault())
    contents.on('will-attach-webview', (event) => event.preventDefault())
    contents.setWindowOpenHandler(({ url }) => {
      if (isExternalLink(url)) void shell.openExternal(url)
      return { action: 'deny' }
    })
  })

  app.on('window-all-closed', () => app.quit())
  app.on('before-quit', () => {
    void core?.close()
    core = undefined
  })

  void app.whenReady().then(async () => {
    core = makeCore(app.getPath('userData'))
    const live = core
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
    })
    ipcMain.handle(CALL_CHANNEL, async (event, method, input) => {
      if (!trustedSender(event.senderFrame?.url)) {
        return { ok: false, error: new MigLabError('forbidden_sender', 'Refused a call from a page that is not MigLab.').toJSON() }
      }
      return dispatch(live.handlers, method, input, DESKTOP)
    })
    window = new BrowserWindow(windowOptions(paths.preload))
    const win = window
    live.subscribe((event) => {
      if (!win.webContents.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event)
    }, DESKTOP.session)
    win.once('ready-to-show', () => win.show())
    win.on('closed', () => {
      window = undefined
      live.endSession(DESKTOP.session)
    })
    await (paths.devUrl ? win.loadURL(paths.devUrl) : win.loadFile(join(paths.rendererDir, 'index.html')))
  })
}
