import type { RunStatus } from '../../shared/domain'
import type { ApiError } from '../../shared/errors'
import { now, type Db } from './db'

export interface NewRun {
  labId: number | null
  jobId: string | null
  vm: string
  strategy: string
  workload: string
  params: unknown
  environment: unknown
}

const FLUSH_EVERY = 500
const FLUSH_AFTER_MS = 250

/**
 * Writes runs as they are measured: the row at start (status 'running'), then samples and events
 * in batched transactions (a 1 ms probe makes thousands per second), then the final metrics.
 */
export class RunWriter {
  private samples: [number, number, string, number][] = []
  private events: [number, number, string, string][] = []
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly db: Db) {}

  create(r: NewRun): number {
    const info = this.db
      .prepare(
        `INSERT INTO runs (lab_id, job_id, vm, strategy, workload, params, environment, status, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
      )
      .run(r.labId, r.jobId, r.vm, r.strategy, r.workload, JSON.stringify(r.params), JSON.stringify(r.environment), now())
    return Number(info.lastInsertRowid)
  }

  sample(runId: number, tMs: number, series: string, value: number): void {
    if (!Number.isFinite(value)) return
    this.samples.push([runId, tMs, series, value])
    this.schedule()
  }

  event(runId: number, tMs: number, kind: string, data: unknown): void {
    this.events.push([runId, tMs, kind, JSON.stringify(data ?? {})])
    this.schedule()
  }

  /** Metrics so far, merged into what the row has (a failed run keeps what it measured). */
  metrics(runId: number, metrics: Record<string, number>): void {
    const row = this.db.prepare('SELECT metrics FROM runs WHERE id = ?').get(runId) as { metrics: string } | undefined
    const merged = { ...(row ? (JSON.parse(row.metrics) as Record<string, number>) : {}), ...finite(metrics) }
    this.db.prepare('UPDATE runs SET metrics = ? WHERE id = ?').run(JSON.stringify(merged), runId)
  }

  finish(runId: number, status: RunStatus, metrics: Record<string, number>, error?: ApiError): void {
    this.flush()
    this.metrics(runId, metrics)
    this.db.prepare('UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?').run(status, error ? JSON.stringify(error) : null, now(), runId)
  }

  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.samples.length && !this.events.length) return
    const samples = this.samples
    const events = this.events
    this.samples = []
    this.events = []
    const s = this.db.prepare('INSERT INTO samples (run_id, t_ms, series, value) VALUES (?, ?, ?, ?)')
    const e = this.db.prepare('INSERT INTO events (run_id, t_ms, kind, data) VALUES (?, ?, ?, ?)')
    this.db.transaction(() => {
      for (const row of samples) s.run(...row)
      for (const row of events) e.run(...row)
    })()
  }

  private schedule(): void {
    if (this.samples.length + this.events.length >= FLUSH_EVERY) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS)
  }
}

const finite = (m: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(m).filter(([, v]) => Number.isFinite(v)))
