import { createHash } from 'node:crypto'

/**
 * A file-name-safe, bounded id for any name: readable prefix + hash, so `x; rm -rf /` and `x_rm` never
 * collide and unix socket paths stay under the 108-byte limit.
 */
export function safeId(name: string, keep = 20): string {
  const slug = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_').slice(0, keep)
  return `${slug}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`
}
