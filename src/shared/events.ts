import type { JobInfo, LogLine } from './domain'

/** Everything the core pushes to the doors. One stream; listeners filter by `type`. */
export type ApiEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'log'; line: LogLine }
  | { type: 'labs.changed' }
  /** A setup wizard stored new step results for this lab. */
  | { type: 'setup.changed'; labId: number }
  /** Tags, notes, stars or imported runs changed the history. */
  | { type: 'runs.changed' }
  /** Terminal output: raw bytes, base64, so UTF-8 split across chunks reaches xterm.js intact. */
  | { type: 'terminal.data'; id: string; data: string }
  | { type: 'terminal.exit'; id: string; reason: string }

export type EventListener = (event: ApiEvent) => void
