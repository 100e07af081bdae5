import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigLabError } from '../../shared/errors'

/**
 * A file of the shipped `resources` folder (e.g. `guest/init`, `mpi/pingpong.c`). Found by walking
 * up from this module, because the code runs both from src/ (tsx, tests) and bundled into out/main/.
 */
export function resourcePath(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'resources', relative)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new MigLabError('resources_missing', `resources/${relative} is missing from this installation.`)
    dir = parent
  }
}

/** The shipped `resources/guest` folder. */
export const guestResourcesDir = (): string => dirname(resourcePath('guest/init'))
/** The shipped `resources/xen` folder (the Xen lab's dom0 scripts). */
export const xenResourcesDir = (): string => dirname(resourcePath('xen/sysinit'))

/** The DSM runtime's C source as shipped, and its sha256 (what a node's build is checked against). */
export function dsmRuntimeSource(): { text: string; sha256: string } {
  const text = readFileSync(resourcePath('dsm/miglab-dsm.c'), 'utf8')
  return { text, sha256: createHash('sha256').update(text).digest('hex') }
}
