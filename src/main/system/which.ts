import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The full path of an executable on PATH (plus the sbin folders root tools live in), or undefined. */
export function which(command: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean)
  for (const dir of dirs) {
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}
