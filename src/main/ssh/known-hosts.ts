import { createHmac } from 'node:crypto'

export type KnownHostsVerdict =
  | { kind: 'match' }
  | { kind: 'revoked' }
  /** The host is listed with other keys only; `keys` are their blobs. */
  | { kind: 'mismatch'; keys: Buffer[] }
  | { kind: 'none' }

/** OpenSSH names non-default ports `[host]:port` in known_hosts. */
const nameFor = (host: string, port: number): string => (port === 22 ? host : `[${host}]:${port}`)

/** `|1|salt|hash`: base64 HMAC-SHA1 of the host name keyed with the salt (HashKnownHosts yes). */
function hashedMatches(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|')
  if (!salt || !hash) return false
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash
}

/** OpenSSH host patterns: `*` and `?` wildcards, case-insensitive. */
function patternMatches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`, 'i').test(name)
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name)
  let matched = false
  for (const p of field.split(',')) {
    // A matching negated pattern excludes the host from the whole line.
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false
    } else if (patternMatches(p, name)) matched = true
  }
  return matched
}

/** What a known_hosts file says about `key` for host:port. Revocation wins over any match. */
export function lookupKnownHosts(text: string, host: string, port: number, key: Buffer): KnownHostsVerdict {
  const name = nameFor(host, port)
  let matched = false
  const others: Buffer[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined
    const [hosts, , b64] = fields
    // CA lines certify keys signed by them; MigLab does not do host certificates.
    if (!hosts || !b64 || marker === '@cert-authority' || !hostMatches(hosts, name)) continue
    const blob = Buffer.from(b64, 'base64')
    const same = blob.equals(key)
    if (marker === '@revoked') {
      if (same) return { kind: 'revoked' }
    } else if (same) matched = true
    else others.push(blob)
  }
  if (matched) return { kind: 'match' }
  return others.length ? { kind: 'mismatch', keys: others } : { kind: 'none' }
}
