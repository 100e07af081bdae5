import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigLabError } from '../../shared/errors'

/**
 * A shipped `resources/<sub>` folder (the one holding `marker`). Found by walking up from this
 * module, because the code runs both from src/ (tsx, tests) and bundled into out/main/.
 */
function resourcesDir(sub: string, marker: string, what: string): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'resources', sub)
    if (existsSync(join(candidate, marker))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new MigLabError('resources_missing', `The ${what} (resources/${sub}) are missing from this installation.`)
    dir = parent
  }
}

export const guestResourcesDir = (): string => resourcesDir('guest', 'init', 'guest image sources')

/** The DSM runtime's C source as shipped, and its sha256 (what a node's build is checked against). */
export function dsmRuntimeSource(): { text: string; sha256: string } {
  const text = readFileSync(join(resourcesDir('dsm', 'miglab-dsm.c', 'DSM runtime sources'), 'miglab-dsm.c'), 'utf8')
  return { text, sha256: createHash('sha256').update(text).digest('hex') }
}
