import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCore } from './core'
import type { ElectronModule } from './doors/electron-types'
import { startDesktop } from './doors/electron-door'
import { SafeStorageSecretStore } from './doors/safe-storage-secrets'
import { resolveDataDir } from './paths'

// Electron entry. `electron` is loaded through require because it is an optional dependency whose
// type declarations may be absent; the door is typed by the surface it uses.
const electron = createRequire(import.meta.url)('electron') as ElectronModule
const here = fileURLToPath(new URL('.', import.meta.url))

startDesktop(
  electron,
  (userData) => {
    const dataDir = resolveDataDir(userData)
    return createCore({ dataDir, door: 'desktop', secrets: new SafeStorageSecretStore(electron.safeStorage, join(dataDir, 'secrets.sealed')) })
  },
  {
    preload: join(here, '../preload/index.cjs'),
    rendererDir: join(here, '../renderer'),
    devUrl: process.env.ELECTRON_RENDERER_URL,
  },
)
