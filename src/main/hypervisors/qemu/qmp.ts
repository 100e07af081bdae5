import type { Duplex } from 'node:stream'
import { MigLabError } from '../../../shared/errors'

export interface QmpEvent {
  event: string
  data: Record<string, unknown>
  /** The QEMU host's wall clock when it emitted the event, in ms since the epoch (µs resolution). */
  qemuTimeMs: number
  /** This machine's performance.now() when the event arrived. */
  receivedAt: number
}

interface Pending {
  command: string
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

export const DEFAULT_QMP_TIMEOUT_MS = 5000

/**
 * A QMP client over any byte stream (a local unix socket or an SSH-forwarded one). QEMU serves one
 * client per socket and a second connection blocks, so callers keep one client per VM. Every call
 * has a timeout: a destination QEMU simply exits when an incoming migration fails.
 */
export class QmpClient {
  private buffer = ''
  private nextId = 1
  private readonly pending = new Map<string, Pending>()
  private readonly listeners = new Set<(e: QmpEvent) => void>()
  private closedWith: Error | undefined
  private greeting: ((g: Record<string, unknown>) => void) | undefined
  readonly closed: Promise<void>

  private constructor(
    private readonly stream: Duplex,
    readonly label: string,
  ) {
    let onClose: () => void = () => {}
    this.closed = new Promise((r) => (onClose = r))
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => this.receive(chunk))
    const end = (err?: Error) => {
      if (this.closedWith) return
      this.closedWith = new MigLabError('qmp_closed', `The QMP connection to ${label} closed${err ? `: ${err.message}` : ''}.`)
      for (const p of this.pending.values()) {
        clearTimeout(p.timer)
        p.reject(this.closedWith)
      }
      this.pending.clear()
      onClose()
    }
    stream.on('error', end)
    stream.on('close', () => end())
    // QEMU went away: close our side too, or the SSH channel stays half-open on the node forever.
    stream.on('end', () => {
      end()
      stream.destroy()
    })
  }

  /** Reads the greeting and negotiates capabilities; the stream is closed on failure. */
  static async connect(stream: Duplex, label: string, timeoutMs = DEFAULT_QMP_TIMEOUT_MS): Promise<QmpClient> {
    const client = new QmpClient(stream, label)
    try {
      await client.withTimeout(
        new Promise<void>((resolve, reject) => {
          client.greeting = () => resolve()
          client.closed.then(() => reject(client.closedWith))
        }),
        timeoutMs,
        'greeting',
      )
      await client.execute('qmp_capabilities', undefined, timeoutMs)
      return client
    } catch (err) {
      client.close()
      throw err
    }
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = DEFAULT_QMP_TIMEOUT_MS): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    const id = `m${this.nextId++}`
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new MigLabError('qmp_timeout', `QEMU (${this.label}) did not answer ${command} within ${timeoutMs} ms.`, { command }))
      }, timeoutMs)
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer })
      this.stream.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`)
    })
  }

  /** Subscribes to asynchronous events; returns the unsubscribe function. */
  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.stream.destroy()
  }

  private withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MigLabError('qmp_timeout', `QEMU (${this.label}) sent no QMP ${what} within ${ms} ms.`)), ms)
    })
    return Promise.race([p, t]).finally(() => clearTimeout(timer))
  }

  private receive(chunk: string): void {
    this.buffer += chunk
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).trim()
      this.buffer = this.buffer.slice(nl + 1)
      if (line) this.dispatch(line)
    }
  }

  private dispatch(line: string): void {
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      return // QMP is line-delimited JSON; a torn line cannot be a reply we wait for
    }
    if ('QMP' in msg) {
      this.greeting?.(msg)
      return
    }
    if (typeof msg.event === 'string') {
      const ts = msg.timestamp as { seconds: number; microseconds: number } | undefined
      const event: QmpEvent = {
        event: msg.event,
        data: (msg.data as Record<string, unknown>) ?? {},
        qemuTimeMs: ts ? ts.seconds * 1000 + ts.microseconds / 1000 : NaN,
        receivedAt: performance.now(),
      }
      for (const l of this.listeners) l(event)
      return
    }
    const p = typeof msg.id === 'string' ? this.pending.get(msg.id) : undefined
    if (!p) return
    this.pending.delete(msg.id as string)
    clearTimeout(p.timer)
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string }
      p.reject(new MigLabError('qmp_error', `QEMU (${this.label}) refused ${p.command}: ${e.desc ?? 'unknown error'}`, { command: p.command, qmpClass: e.class }))
    } else p.resolve(msg.return)
  }
}
