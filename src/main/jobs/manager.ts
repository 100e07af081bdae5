import { randomUUID } from 'node:crypto'
import type { JobInfo, LogLine } from '../../shared/domain'
import { MigLabError, toApiError } from '../../shared/errors'
import type { EventBus } from '../events'
import type { JobsRepo } from '../store/jobs'
import type { LogsRepo } from '../store/logs'

export interface JobContext {
  readonly id: string
  readonly signal: AbortSignal
  /** Report where the job is: `fraction` 0..1 (null = cannot tell) and the step in words. */
  progress(fraction: number | null, step: string): void
  log(level: LogLine['level'], message: string): void
  /** Throws `cancelled` if the user cancelled; call between steps. */
  checkCancelled(): void
}

export type JobBody<T> = (ctx: JobContext) => Promise<T>

/** Runs long work as jobs: an id, progress events, cancel, and a durable record. */
export class JobManager {
  private readonly running = new Map<string, { info: JobInfo; abort: AbortController; done: Promise<JobInfo> }>()

  constructor(
    private readonly repo: JobsRepo,
    private readonly logs: LogsRepo,
    private readonly bus: EventBus,
  ) {}

  private storeFailed = false

  start<T>(kind: string, title: string, params: unknown, body: JobBody<T>): JobInfo {
    const abort = new AbortController()
    const info: JobInfo = {
      id: randomUUID(),
      kind,
      title,
      status: 'running',
      progress: 0,
      step: 'Starting',
      startedAt: new Date().toISOString(),
    }
    this.repo.insert(info, params)
    const ctx: JobContext = {
      id: info.id,
      signal: abort.signal,
      progress: (fraction, step) => {
        info.progress = fraction === null ? null : Math.max(0, Math.min(1, fraction))
        info.step = step
        this.publish(info)
      },
      log: (level, message) => {
        const line: LogLine = { at: new Date().toISOString(), level, message, jobId: info.id }
        this.persist(() => this.logs.insert(line))
        this.bus.emit({ type: 'log', line })
      },
      checkCancelled: () => {
        if (abort.signal.aborted) throw new MigLabError('cancelled', `${title}: cancelled.`)
      },
    }
    const done = (async () => {
      try {
        const result = await body(ctx)
        Object.assign(info, { status: 'succeeded', progress: 1, step: 'Done', result })
      } catch (err) {
        const error = toApiError(err)
        const cancelled = abort.signal.aborted || error.code === 'cancelled'
        Object.assign(info, { status: cancelled ? 'cancelled' : 'failed', error: { code: error.code, message: error.message } })
        ctx.log(cancelled ? 'warn' : 'error', error.message)
      } finally {
        info.endedAt = new Date().toISOString()
        this.running.delete(info.id)
        this.publish(info)
      }
      return { ...info }
    })()
    this.running.set(info.id, { info, abort, done })
    this.bus.emit({ type: 'job', job: { ...info } })
    return { ...info }
  }

  /** Resolves when the job ends, with its final state. */
  async wait(id: string): Promise<JobInfo> {
    const entry = this.running.get(id)
    if (entry) return entry.done
    const stored = this.repo.recent(500).find((j) => j.id === id)
    if (!stored) throw new MigLabError('job_not_found', `No job with id ${id}.`)
    return stored
  }

  cancel(id: string): boolean {
    const entry = this.running.get(id)
    if (!entry) return false
    entry.abort.abort()
    return true
  }

  list(): JobInfo[] {
    return this.repo.recent()
  }

  /** Cancels every running job and waits for them to wind down (on quit). */
  async shutdown(): Promise<void> {
    const pending = [...this.running.values()]
    for (const entry of pending) entry.abort.abort()
    await Promise.allSettled(pending.map((e) => e.done))
  }

  private publish(info: JobInfo): void {
    this.persist(() => this.repo.update(info))
    this.bus.emit({ type: 'job', job: { ...info } })
  }

  /**
   * A job's progress and logs reach the doors even when the history cannot take them (a full disk):
   * the job goes on, says so once in its log, and its stored record is reconciled at the next start.
   */
  private persist(write: () => void): void {
    try {
      write()
      this.storeFailed = false
    } catch (err) {
      if (this.storeFailed) return
      this.storeFailed = true
      const e = toApiError(err)
      this.bus.emit({ type: 'log', line: { at: new Date().toISOString(), level: 'error', message: `MigLab's history cannot be written: ${e.message}` } })
    }
  }
}
