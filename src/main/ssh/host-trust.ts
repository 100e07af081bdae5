import { homedir } from 'node:os'
import { join } from 'node:path'
import { MigLabError } from '../../shared/errors'
import type { HostKeysRepo, TrustedKey } from '../store/hostkeys'
import { algorithmOf, fingerprintOf } from './fingerprint'
import { lookupKnownHosts } from './known-hosts'
import { readUserFileIfPresent } from './user-file'

/** A host key as the user sees it: the fingerprint is exactly what `ssh-keygen -lf` prints. */
export interface HostKeyInfo {
  host: string
  port: number
  algorithm: string
  fingerprint: string
}

/** Asks the user whether to trust an unknown key; may also throw to abort the connection. */
export type ConfirmHostKey = (key: HostKeyInfo) => Promise<boolean>

export interface HostTrustOptions {
  repo: HostKeysRepo
  confirm: ConfirmHostKey
  /** OpenSSH known_hosts consulted for keys MigLab has not seen; null to ignore it. */
  knownHostsPath?: string | null
}

/** ssh2's async verifier: it must return undefined and answer through `verify`. */
export type HostVerifier = (key: Buffer, verify: (accept: boolean) => void) => void

const replaceHint = 'If the node was reinstalled or its keys regenerated on purpose, compare the new fingerprint with `ssh-keygen -lf` on the node, then replace the trusted key. Otherwise someone may be intercepting the connection.'

/**
 * Host key verification during the SSH handshake, before any authentication is sent. Order:
 * trusted in MigLab → known_hosts → ask the user. A key that differs from a trusted one is refused.
 */
export class HostTrust {
  /** The last key each host presented and MigLab refused, so trust/replace pin exactly that key. */
  private readonly seen = new Map<string, { algorithm: string; fingerprint: string; key: string }>()
  private readonly knownHostsPath: string | null

  constructor(private readonly opts: HostTrustOptions) {
    this.knownHostsPath = opts.knownHostsPath === undefined ? join(homedir(), '.ssh', 'known_hosts') : opts.knownHostsPath
  }

  /** A verifier for one connection attempt; `refusal()` then says why the handshake was refused. */
  verifier(host: string, port: number): { hostVerifier: HostVerifier; refusal: () => MigLabError | undefined } {
    let refusal: MigLabError | undefined
    const hostVerifier: HostVerifier = (key, verify) => {
      this.check(host, port, key).then(
        () => verify(true),
        (err: unknown) => {
          refusal = err instanceof MigLabError ? err : new MigLabError('host_key_rejected', `Host key check for ${host}:${port} failed: ${String(err)}`)
          verify(false)
        },
      )
    }
    return { hostVerifier, refusal: () => refusal }
  }

  /**
   * Resolves when `key` may be used for host:port; throws a MigLabError otherwise. A key marked
   * `@revoked` in known_hosts is refused first, on every connection, even when it is pinned.
   */
  async check(host: string, port: number, key: Buffer): Promise<void> {
    const info: HostKeyInfo = { host, port, algorithm: algorithmOf(key), fingerprint: fingerprintOf(key) }
    const b64 = key.toString('base64')
    const verdict = lookupKnownHosts(this.readKnownHosts(), host, port, key)
    const seen = (): void => void this.seen.set(`${host}:${port}`, { algorithm: info.algorithm, fingerprint: info.fingerprint, key: b64 })
    if (verdict.kind === 'revoked') {
      seen() // so a later trust/replace of it is refused as revoked, by name
      throw this.revoked(info)
    }
    const trusted = this.opts.repo.get(host, port)
    if (trusted?.key === b64) return
    seen()
    if (trusted) throw changed(info, trusted.fingerprint, 'MigLab')

    if (verdict.kind === 'match') return this.pin(info, b64)
    if (verdict.kind === 'mismatch') throw changed(info, fingerprintOf(verdict.keys[0]), this.knownHostsPath ?? 'known_hosts')

    if (!(await this.opts.confirm(info))) {
      throw new MigLabError('host_key_rejected', `You did not trust the host key of ${host}:${port}; nothing was sent to it.`, { ...info })
    }
    this.pin(info, b64)
  }

  /**
   * The user accepted an unknown key: pin exactly the fingerprint they saw. Only from the unknown
   * state: when MigLab or known_hosts already names another key for the host (or revoked this
   * one), trusting is refused — a changed key goes through `replace`, which the user confirms.
   */
  trust(host: string, port: number, fingerprint: string): TrustedKey {
    const current = this.opts.repo.get(host, port)
    if (current && current.fingerprint !== fingerprint) {
      throw new MigLabError('host_key_changed', `${host}:${port} already has a different trusted key.`, {
        host,
        port,
        oldFingerprint: current.fingerprint,
        newFingerprint: fingerprint,
        hint: 'Use "replace" to swap the trusted key after checking it.',
      })
    }
    if (current) return current
    const seen = this.seenKey(host, port, fingerprint)
    const verdict = lookupKnownHosts(this.readKnownHosts(), host, port, Buffer.from(seen.key, 'base64'))
    if (verdict.kind === 'mismatch') {
      const listed = fingerprintOf(verdict.keys[0])
      throw new MigLabError('host_key_changed', `${this.knownHostsPath} lists another key for ${host}:${port} (${listed}), so MigLab will not trust ${fingerprint} on first use.`, {
        host,
        port,
        oldFingerprint: listed,
        newFingerprint: fingerprint,
        source: this.knownHostsPath,
        hint: replaceHint,
      })
    }
    return this.pinSeen(host, port, fingerprint)
  }

  /** The user confirmed a changed key: replace the trusted one with exactly that fingerprint. */
  replace(host: string, port: number, fingerprint: string): TrustedKey {
    return this.pinSeen(host, port, fingerprint)
  }

  private pinSeen(host: string, port: number, fingerprint: string): TrustedKey {
    const seen = this.seenKey(host, port, fingerprint)
    const key = Buffer.from(seen.key, 'base64')
    if (lookupKnownHosts(this.readKnownHosts(), host, port, key).kind === 'revoked') throw this.revoked({ host, port, algorithm: seen.algorithm, fingerprint })
    this.opts.repo.trust({ host, port, ...seen })
    this.seen.delete(`${host}:${port}`)
    return this.opts.repo.get(host, port)!
  }

  /** The key host:port last presented, if it has exactly that fingerprint. */
  private seenKey(host: string, port: number, fingerprint: string): { algorithm: string; fingerprint: string; key: string } {
    const seen = this.seen.get(`${host}:${port}`)
    if (!seen || seen.fingerprint !== fingerprint) {
      throw new MigLabError('host_key_not_seen', `MigLab has not been shown the key ${fingerprint} by ${host}:${port}.`, {
        host,
        port,
        fingerprint,
        ...(seen ? { presentedFingerprint: seen.fingerprint } : {}),
        hint: 'Connect to the node again and check the fingerprint it presents now.',
      })
    }
    return seen
  }

  private revoked(info: HostKeyInfo): MigLabError {
    return new MigLabError(
      'host_key_revoked',
      `The host key of ${info.host}:${info.port} (${info.fingerprint}) is marked @revoked in ${this.knownHostsPath}; MigLab refused to connect.`,
      {
        ...info,
        source: this.knownHostsPath,
        hint: 'A revoked key must not be used: give the node a new host key (ssh-keygen -A after removing the old one), or, if the @revoked line is a mistake, delete it from known_hosts.',
      },
    )
  }

  private pin(info: HostKeyInfo, b64: string): void {
    this.opts.repo.trust({ ...info, key: b64 })
    this.seen.delete(`${info.host}:${info.port}`)
  }

  /**
   * known_hosts, read safely (a regular file of at most 16 MiB). Absent is the common case on a
   * fresh machine; one that cannot be read safely fails the connection, since its @revoked lines
   * could not be checked.
   */
  private readKnownHosts(): string {
    if (!this.knownHostsPath) return ''
    const text = readUserFileIfPresent(this.knownHostsPath, {
      code: 'known_hosts_unreadable',
      what: 'known_hosts',
      maxBytes: 16 * 1024 * 1024,
      followSymlink: true,
      hint: 'MigLab checks it for @revoked keys before every connection; fix or move the file.',
    })
    return text?.toString('utf8') ?? ''
  }

}

function changed(info: HostKeyInfo, oldFingerprint: string, source: string): MigLabError {
  return new MigLabError(
    'host_key_changed',
    `The host key of ${info.host}:${info.port} changed (trusted in ${source}: ${oldFingerprint}, presented now: ${info.fingerprint}). MigLab refused to connect.`,
    { host: info.host, port: info.port, algorithm: info.algorithm, oldFingerprint, newFingerprint: info.fingerprint, source, hint: replaceHint },
  )
}

/**
 * The confirm step for doors that cannot ask mid-handshake (all of them: a call cannot wait on a
 * dialog): refuse, and hand the key to the UI as 'host_key_unknown'. The user's answer comes back
 * as `hostKeys.trust`, and the UI connects again.
 */
export const askThroughError: ConfirmHostKey = async (key) => {
  throw new MigLabError('host_key_unknown', `MigLab has never seen the host key of ${key.host}:${key.port}. Check its fingerprint before trusting it.`, {
    ...key,
    hint: 'On the node, `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` (or the key of that algorithm) must print the same fingerprint.',
  })
}
