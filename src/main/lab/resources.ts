import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigLabError } from '../../shared/errors'

/**
 * The shipped `resources/guest` folder. Found by walking up from this module, because the code runs
 * both from src/ (tsx, tests) and bundled into out/main/.
 */
export function guestResourcesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'resources', 'guest')
    if (existsSync(join(candidate, 'init'))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new MigLabError('resources_missing', 'The guest image sources (resources/guest) are missing from this installation.')
    dir = parent
  }
}
