import type { ClientChannel } from 'ssh2'
import type { SshPool } from './pool'

export interface ShellOptions {
  cols: number
  rows: number
  term?: string
}

export interface Shell {
  /** Duplex: write keystrokes, read terminal output (stderr is merged by the pty). */
  stream: ClientChannel
  resize(cols: number, rows: number): void
  close(): void
}

/** An interactive login shell on a pty, for a terminal emulator such as xterm.js. */
export async function openShell(pool: SshPool, nodeKey: string, opts: ShellOptions): Promise<Shell> {
  const term = opts.term ?? 'xterm-256color'
  const stream = await pool.channel(nodeKey, 'session', (c, cb) => c.shell({ term, cols: opts.cols, rows: opts.rows }, cb))
  return {
    stream,
    // setWindow takes rows first; height/width in pixels are unknown and left 0.
    resize: (cols, rows) => stream.setWindow(rows, cols, 0, 0),
    close: () => stream.close(),
  }
}
