import { homedir } from 'node:os'
import { join } from 'node:path'

/** `~` and `~/x` as OpenSSH means them; other forms (`~user`) are left alone. */
export const expandHome = (path: string): string => (path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path)
