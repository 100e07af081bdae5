import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigLabError } from '../../shared/errors'

/**
 * A shipped `resources/<name>` folder, known by a file inside. Found by walking up from this module,
 * because the code runs both from src/ (tsx, tests) and bundled into out/main/.
 */
function resourcesDir(name: string, marker: string, what: string): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'resources', name)
    if (existsSync(join(candidate, marker))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new MigLabError('resources_missing', `${what} (resources/${name}) are missing from this installation.`)
    dir = parent
  }
}

export const guestResourcesDir = (): string => resourcesDir('guest', 'init', 'The guest image sources')
export const xenResourcesDir = (): string => resourcesDir('xen', 'sysinit', "The Xen lab's dom0 scripts")
