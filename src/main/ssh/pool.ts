import { connect as netConnect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import ssh2 from 'ssh2'
import type { Client, ClientChannel, ConnectConfig } from 'ssh2'
import type { NodeAuth } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { algorithmOf, fingerprintOf } from './fingerprint'
import type { HostTrust } from './host-trust'
import { expandHome } from './paths'
import type { SecretStore } from './secrets'
import { readUserFile } from './user-file'

/** Where and how to reach one node. */
export interface SshTarget {
  host: string
  port: number
  user: string
  auth: NodeAuth
  /** Pool key of the node to hop through (ProxyJump). */
  jump?: string
}

export interface PoolOptions {
  /** Looks a node up by pool key; throws when there is no such node. */
  resolve: (nodeKey: string) => SshTarget
  secrets: SecretStore
  trust: HostTrust
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
  readyTimeoutMs?: number
  /** Backoff after a drop: first delay, cap, and tries before giving up. */
  reconnect?: { firstMs: number; maxMs: number; tries: number }
  /** Concurrent exec/shell channels per connection; OpenSSH's MaxSessions defaults to 10. */
  maxSessions?: number
  /** ssh2's protocol trace (never contains secrets), for diagnosis and tests. */
  debug?: (nodeKey: string, message: string) => void
}

export interface ConnectionInfo {
  host: string
  port: number
  user: string
  algorithm: string
  fingerprint: string
}

interface Entry {
  ready: Promise<Client>
  client?: Client
  info?: ConnectionInfo
  /** Aborted by disconnect/close: stops reconnecting. */
  stop: AbortController
  sessions: number
  queue: (() => void)[]
}

/** Tries for a session sshd refused while it reaps closed ones (50, 100, … ms apart: ~2 s in all). */
const SESSION_RETRIES = 8

// Errors another try cannot fix: reconnecting stops at once.
const PERMANENT = new Set([
  'host_key_changed', 'host_key_unknown', 'host_key_rejected', 'host_key_revoked', 'known_hosts_unreadable', 'auth_failed',
  'key_unreadable', 'key_unusable', 'secret_missing', 'ssh_agent_missing', 'node_not_found', 'jump_cycle',
])

/**
 * One SSH connection per node, shared by many channels. Keepalives notice dead links; after a drop
 * the pool redials with exponential backoff and callers wait for it.
 */
export class SshPool {
  private readonly entries = new Map<string, Entry>()
  private readonly live = new WeakSet<Client>()
  private readonly o: Required<Omit<PoolOptions, 'debug'>> & Pick<PoolOptions, 'debug'>

  constructor(options: PoolOptions) {
    this.o = {
      keepaliveIntervalMs: 10_000,
      keepaliveCountMax: 3,
      readyTimeoutMs: 15_000,
      reconnect: { firstMs: 250, maxMs: 30_000, tries: 8 },
      maxSessions: 8,
      ...options,
    }
  }

  /** Connects (or reuses the connection) and tells which host key was accepted. */
  async connect(nodeKey: string): Promise<ConnectionInfo> {
    const entry = this.entries.get(nodeKey) ?? this.open(nodeKey)
    await entry.ready
    return entry.info!
  }

  /** The node's connection, waiting for a dial or a reconnection in progress. */
  client(nodeKey: string): Promise<Client> {
    return (this.entries.get(nodeKey) ?? this.open(nodeKey)).ready
  }

  target(nodeKey: string): SshTarget {
    return this.o.resolve(nodeKey)
  }

  /** The login password, reused for sudo on nodes that log in with one. */
  password(nodeKey: string): string | undefined {
    return this.o.secrets.get(nodeKey, 'password')
  }

  /**
   * Opens a channel: 'session' (exec, shell) waits for a free session slot, 'control' (short
   * kill commands) skips the queue so a cancel can never wait behind what it cancels.
   * A drop the pool has not noticed yet shows up here as a failed open: it is
   * treated as a drop, and the open is retried once on the new connection.
   */
  async channel(nodeKey: string, kind: 'session' | 'control' | 'forward', open: (c: Client, cb: (err: Error | undefined, ch: ClientChannel) => void) => void): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      const entry = this.entries.get(nodeKey) ?? this.open(nodeKey)
      const client = await entry.ready
      if (kind === 'session') await this.acquire(entry)
      try {
        const ch = await new Promise<ClientChannel>((resolve, reject) => {
          try {
            open(client, (err, ch) => (err ? reject(err) : resolve(ch)))
          } catch (err) {
            reject(err)
          }
        })
        if (kind === 'session') ch.once('close', () => this.release(entry))
        return ch
      } catch (err) {
        if (kind === 'session') this.release(entry)
        if (attempt === 0 && !this.live.has(client)) {
          this.dropped(nodeKey, entry, client)
          continue
        }
        // sshd refuses a session while it still counts ones that just closed (MaxSessions): it frees
        // them a moment later. A forward's refusal means its target is missing: no retry.
        if (kind !== 'forward' && /open failed/i.test((err as Error).message) && attempt < SESSION_RETRIES) {
          await sleep(50 * (attempt + 1))
          continue
        }
        throw new MigLabError('channel_failed', `Cannot open an SSH channel to node ${nodeKey}: ${(err as Error).message}`)
      }
    }
  }

  /** Whether the pool holds a connection (or a dial) for the node. */
  has(nodeKey: string): boolean {
    return this.entries.has(nodeKey)
  }

  /** Closes the node's connection; the next use dials again (e.g. after its settings changed). */
  async disconnect(nodeKey: string): Promise<void> {
    const entry = this.entries.get(nodeKey)
    if (!entry) return
    this.entries.delete(nodeKey)
    await this.end(entry)
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()]
    this.entries.clear()
    await Promise.all(all.map((e) => this.end(e)))
  }

  private open(nodeKey: string): Entry {
    const entry: Entry = { ready: Promise.resolve(undefined as never), stop: new AbortController(), sessions: 0, queue: [] }
    this.entries.set(nodeKey, entry)
    this.track(nodeKey, entry, this.dial(nodeKey, entry))
    return entry
  }

  /** Sets `ready`; a failure forgets the entry so the next call dials afresh. */
  private track(nodeKey: string, entry: Entry, dialing: Promise<Client>): void {
    entry.ready = dialing
    dialing.catch(() => {
      if (this.entries.get(nodeKey) === entry && entry.ready === dialing) this.entries.delete(nodeKey)
    })
  }

  private dropped(nodeKey: string, entry: Entry, client: Client): void {
    this.live.delete(client)
    if (entry.stop.signal.aborted || this.entries.get(nodeKey) !== entry || entry.client !== client) return
    entry.client = undefined
    this.o.debug?.(nodeKey, 'connection dropped; reconnecting')
    this.track(nodeKey, entry, this.redial(nodeKey, entry))
  }

  private async redial(nodeKey: string, entry: Entry): Promise<Client> {
    const { firstMs, maxMs, tries } = this.o.reconnect
    let delay = firstMs
    let last: unknown
    for (let i = 0; i < tries; i++) {
      try {
        await sleep(delay, undefined, { signal: entry.stop.signal })
      } catch {
        throw new MigLabError('disconnected', `The connection to node ${nodeKey} was closed.`)
      }
      try {
        return await this.dial(nodeKey, entry)
      } catch (err) {
        if (err instanceof MigLabError && PERMANENT.has(err.code)) throw err
        last = err
      }
      delay = Math.min(delay * 2, maxMs)
    }
    const t = this.o.resolve(nodeKey)
    throw new MigLabError('node_unreachable', `Lost the connection to ${t.host}:${t.port} and could not reconnect after ${tries} tries.`, {
      host: t.host,
      port: t.port,
      cause: last instanceof Error ? last.message : String(last),
      hint: 'Check that the node is up and sshd is running, then connect again.',
    })
  }

  private async dial(nodeKey: string, entry: Entry): Promise<Client> {
    const t = this.o.resolve(nodeKey)
    this.checkJumps(nodeKey, t)
    const auth = this.auth(nodeKey, t)
    const { hostVerifier, refusal } = this.o.trust.verifier(t.host, t.port)
    let presented: Buffer | undefined
    const sock = t.jump
      ? await this.channel(t.jump, 'forward', (c, cb) => c.forwardOut('127.0.0.1', 0, t.host, t.port, cb))
      : await tcpConnect(t.host, t.port, this.o.readyTimeoutMs).catch((err: Error) => {
          throw dialError(err, t, undefined)
        })
    const client = new ssh2.Client()
    const config: ConnectConfig = {
      host: t.host,
      port: t.port,
      username: t.user,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        presented = key
        hostVerifier(key, verify)
      },
      keepaliveInterval: this.o.keepaliveIntervalMs,
      keepaliveCountMax: this.o.keepaliveCountMax,
      readyTimeout: this.o.readyTimeoutMs,
      sock,
      ...(this.o.debug ? { debug: (m: string) => this.o.debug!(nodeKey, m) } : {}),
      ...auth,
    }
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        client.removeListener('ready', ok)
        client.end()
        reject(dialError(err, t, refusal()))
      }
      const ok = (): void => {
        client.removeListener('error', fail)
        resolve()
      }
      client.once('ready', ok)
      client.once('error', fail)
      client.connect(config)
    })
    if (entry.stop.signal.aborted) {
      // Closed while this dial was in flight: do not keep a connection nobody owns.
      client.end()
      throw new MigLabError('disconnected', `The connection to node ${nodeKey} was closed.`)
    }
    this.live.add(client)
    entry.client = client
    entry.info = { host: t.host, port: t.port, user: t.user, algorithm: algorithmOf(presented!), fingerprint: fingerprintOf(presented!) }
    // After 'ready', errors come with a close; the close is what triggers the reconnection.
    client.on('error', (err) => this.o.debug?.(nodeKey, `connection error: ${err.message}`))
    client.once('close', () => this.dropped(nodeKey, entry, client))
    return client
  }

  private checkJumps(nodeKey: string, t: SshTarget): void {
    const chain = [nodeKey]
    for (let next = t.jump; next !== undefined; next = this.o.resolve(next).jump) {
      if (chain.includes(next)) {
        throw new MigLabError('jump_cycle', `The jump hosts of node ${nodeKey} form a loop (${[...chain, next].join(' → ')}).`)
      }
      chain.push(next)
    }
  }

  private auth(nodeKey: string, t: SshTarget): Partial<ConnectConfig> {
    const where = `${t.user}@${t.host}:${t.port}`
    switch (t.auth.kind) {
      case 'key': {
        const path = expandHome(t.auth.keyPath ?? '')
        const privateKey = readUserFile(path, { code: 'key_unreadable', what: `the private key for ${where}`, hint: 'Change the key path in the node settings.' })
        const passphrase = this.o.secrets.get(nodeKey, 'passphrase')
        // Parsed here so a missing or wrong passphrase gets its own error rather than a failed login.
        if (ssh2.utils.parseKey(privateKey, passphrase) instanceof Error) {
          throw new MigLabError('key_unusable', `The private key ${path} cannot be used${passphrase ? ' with that passphrase' : ''}.`, {
            hint: passphrase ? 'Enter the passphrase again.' : 'The key is encrypted or not an SSH private key: enter its passphrase in the node settings.',
          })
        }
        return { privateKey, ...(passphrase ? { passphrase } : {}) }
      }
      case 'agent': {
        const agent = process.env.SSH_AUTH_SOCK
        if (!agent) {
          throw new MigLabError('ssh_agent_missing', `No SSH agent to log in to ${where} (SSH_AUTH_SOCK is not set).`, {
            hint: 'Start MigLab from a session with ssh-agent running, or use a key file.',
          })
        }
        return { agent }
      }
      case 'password': {
        const password = this.o.secrets.get(nodeKey, 'password')
        if (password === undefined) {
          throw new MigLabError('secret_missing', `MigLab does not know the password for ${where}.`, {
            hint: 'Passwords are kept only while MigLab runs: enter it again in the node settings.',
          })
        }
        return { password }
      }
    }
  }

  private async acquire(entry: Entry): Promise<void> {
    if (entry.sessions < this.o.maxSessions) {
      entry.sessions++
      return
    }
    await new Promise<void>((resolve) => entry.queue.push(resolve))
  }

  private release(entry: Entry): void {
    const next = entry.queue.shift()
    if (next) next()
    else entry.sessions--
  }

  private async end(entry: Entry): Promise<void> {
    entry.stop.abort()
    const client = entry.client
    if (!client) return
    this.live.delete(client)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000)
      client.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      client.end()
    })
  }
}

/**
 * The TCP connection under SSH, with Nagle off: each exec is a few small packets each way, and
 * Nagle + delayed ACK held every one of them back ~40 ms (44 ms per command against 2 ms without).
 */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port, noDelay: true })
    const fail = (err: Error & { level?: string; code?: string }) => {
      sock.destroy()
      err.level ??= err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'client-dns' : 'client-socket'
      reject(err)
    }
    sock.setTimeout(timeoutMs, () => fail(Object.assign(new Error(`no TCP connection within ${timeoutMs} ms`), { level: 'client-timeout' })))
    sock.once('error', fail)
    sock.once('connect', () => {
      sock.setTimeout(0)
      sock.removeListener('error', fail)
      resolve(sock)
    })
  })
}

function dialError(err: Error & { level?: string }, t: SshTarget, refusal: MigLabError | undefined): MigLabError {
  if (refusal) return refusal
  const where = `${t.user}@${t.host}:${t.port}`
  const detail = { host: t.host, port: t.port, user: t.user }
  switch (err.level) {
    case 'client-authentication':
      return new MigLabError('auth_failed', `${where} did not accept the ${t.auth.kind} login.`, {
        ...detail,
        method: t.auth.kind,
        hint: 'Check the user name and the key, agent or password for this node.',
      })
    case 'client-timeout':
    case 'client-socket':
    case 'client-dns':
      return new MigLabError('node_unreachable', `Cannot reach ${t.host}:${t.port}: ${err.message}`, {
        ...detail,
        hint: 'Check the address and port, and that sshd runs on the node.',
      })
    default:
      return new MigLabError('ssh_failed', `SSH to ${where} failed: ${err.message}`, detail)
  }
}
