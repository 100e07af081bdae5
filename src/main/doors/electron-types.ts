/**
 * The slice of Electron's API the desktop door uses. `electron` is an optional dependency (its
 * runtime cannot be downloaded everywhere), so the door is typed against this surface instead of
 * Electron's own declarations; tests hand it a mock of exactly this shape.
 */
export interface IpcEventLike {
  senderFrame: { url: string } | null
}

export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void }, url: string) => void): void
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
  send(channel: string, ...args: unknown[]): void
  isDestroyed(): boolean
}

export interface WebPreferences {
  preload: string
  contextIsolation: true
  sandbox: true
  nodeIntegration: false
  webSecurity: true
  webviewTag: false
}

export interface WindowOptions {
  width: number
  height: number
  minWidth: number
  minHeight: number
  title: string
  show: boolean
  webPreferences: WebPreferences
}

export interface BrowserWindowLike {
  webContents: WebContentsLike
  loadFile(path: string): Promise<void>
  loadURL(url: string): Promise<void>
  once(event: 'ready-to-show', listener: () => void): void
  on(event: 'closed', listener: () => void): void
  show(): void
  focus(): void
  restore(): void
  isMinimized(): boolean
}

export interface HeadersDetails {
  responseHeaders?: Record<string, string[]>
}

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  /**
   * Linux only (after app ready): 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' |
   * 'kwallet6' | 'unknown'. `basic_text` encrypts with a key hard-coded in Chromium: not a keyring.
   */
  getSelectedStorageBackend?(): string
  encryptString(plain: string): Buffer
  decryptString(sealed: Buffer): string
}

export interface ElectronModule {
  app: {
    requestSingleInstanceLock(): boolean
    quit(): void
    whenReady(): Promise<void>
    getPath(name: 'userData'): string
    on(event: 'second-instance' | 'window-all-closed' | 'before-quit', listener: (event: { preventDefault(): void }) => void): void
    on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsLike) => void): void
  }
  BrowserWindow: new (options: WindowOptions) => BrowserWindowLike
  ipcMain: {
    handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void
  }
  shell: { openExternal(url: string): Promise<void> }
  safeStorage: SafeStorageLike
  session: {
    defaultSession: {
      webRequest: {
        onHeadersReceived(
          listener: (details: HeadersDetails, callback: (response: { responseHeaders: Record<string, string[]> }) => void) => void,
        ): void
      }
      setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void
    }
  }
}
