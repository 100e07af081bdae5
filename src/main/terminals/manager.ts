import { randomUUID } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { MigLabError } from '../../shared/errors'
import type { EventBus } from '../events'

export interface ShellLike {
  stream: Duplex
  resize(cols: number, rows: number): void
  close(): void
}

export type ShellOpener = (nodeId: number, size: { cols: number; rows: number }) => Promise<{ shell: ShellLike; title: string }>

/** Pause the remote stream past this many bytes the renderer has not rendered yet, resume below LOW. */
export const HIGH_WATER = 4 * 1024 * 1024
export const LOW_WATER = 1024 * 1024

/** Output chunks read in one turn of the event loop go out as one event, up to this size. */
export const COALESCE_BYTES = 64 * 1024

interface Terminal {
  shell: ShellLike
  /** The door connection that opened it: only it hears the output and may type, resize, ack or close. */
  session: string
  unacked: number
  paused: boolean
}

/**
 * Live terminals. Output goes out as events; the renderer acks what xterm.js has written, and the
 * SSH stream is paused while too much is in flight (xterm drops data past ~50 MB queued). Each
 * terminal belongs to the session (a browser tab's socket, a window) that opened it; to any other
 * session it does not exist.
 */
export class TerminalManager {
  private readonly terminals = new Map<string, Terminal>()

  constructor(
    private readonly bus: EventBus,
    private readonly openShell: ShellOpener,
    /** Off: each chunk as its own event, as before coalescing (bench/terminal.ts compares the two). */
    private readonly coalesce = true,
  ) {}

  async open(nodeId: number, cols: number, rows: number, session: string): Promise<{ id: string; title: string }> {
    const { shell, title } = await this.openShell(nodeId, { cols, rows })
    const id = randomUUID()
    const t: Terminal = { shell, session, unacked: 0, paused: false }
    this.terminals.set(id, t)
    // A remote pty hands out ~4 KiB reads, and ssh2 delivers many of them in one socket read: sent
    // one by one they cost a WebSocket frame and a page event each. Coalesced per event-loop turn
    // (bench/terminal.ts), output still leaves before anything that comes after it.
    let pending: Buffer[] = []
    let pendingBytes = 0
    let scheduled: NodeJS.Immediate | undefined
    const flush = () => {
      if (scheduled) clearImmediate(scheduled)
      scheduled = undefined
      if (!pending.length) return
      const data = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes)
      pending = []
      pendingBytes = 0
      this.bus.emit({ type: 'terminal.data', id, data })
    }
    shell.stream.on('data', (chunk: Buffer) => {
      t.unacked += chunk.length
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes >= COALESCE_BYTES || !this.coalesce) flush()
      else scheduled ??= setImmediate(flush)
      if (!t.paused && t.unacked > HIGH_WATER) {
        t.paused = true
        shell.stream.pause()
      }
    })
    shell.stream.on('close', () => {
      flush()
      // Said while the terminal is still known, so the event reaches its session.
      if (this.terminals.get(id) === t) this.bus.emit({ type: 'terminal.exit', id, reason: 'The shell ended or the connection dropped.' })
      this.terminals.delete(id)
    })
    return { id, title }
  }

  input(id: string, data: string, session: string): void {
    this.get(id, session).shell.stream.write(data)
  }

  resize(id: string, cols: number, rows: number, session: string): void {
    this.get(id, session).shell.resize(cols, rows)
  }

  ack(id: string, bytes: number, session: string): void {
    const t = this.get(id, session)
    t.unacked = Math.max(0, t.unacked - bytes)
    if (t.paused && t.unacked < LOW_WATER) {
      t.paused = false
      t.shell.stream.resume()
    }
  }

  close(id: string, session: string): void {
    const t = this.terminals.get(id)
    if (!t || t.session !== session) return
    this.terminals.delete(id)
    t.shell.close()
  }

  /** The session's connection ended (a tab closed, a socket dropped): its shells end with it. */
  closeSession(session: string): void {
    for (const [id, t] of [...this.terminals]) if (t.session === session) this.close(id, session)
  }

  closeAll(): void {
    for (const [id, t] of [...this.terminals]) this.close(id, t.session)
  }

  /** The session a terminal belongs to (undefined once it is closed). */
  sessionOf(id: string): string | undefined {
    return this.terminals.get(id)?.session
  }

  private get(id: string, session: string): Terminal {
    const t = this.terminals.get(id)
    // Another session's terminal is answered exactly like a closed one: nothing about it leaks.
    if (!t || t.session !== session) throw new MigLabError('terminal_closed', 'This terminal is closed.', { hint: 'Open a new terminal or reconnect.' })
    return t
  }
}
