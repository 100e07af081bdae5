import type { JobInfo, LogLine } from './domain'

/** Everything the core pushes to the doors. One stream; listeners filter by `type`. */
export type ApiEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'log'; line: LogLine }
  | { type: 'labs.changed' }

export type EventListener = (event: ApiEvent) => void
