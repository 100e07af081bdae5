import type { RunStatus } from '../../shared/domain'
import type { ApiError } from '../../shared/errors'
import { now, storeError, type Db } from './db'

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
const MAX_BUFFERED = 200_000

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
    try {
      this.metrics(runId, metrics)
      this.db.prepare('UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?').run(status, error ? JSON.stringify(error) : null, now(), runId)
    } catch (err) {
      throw storeError(this.db, err)
    }
  }

  /**
   * Writes what is buffered in one transaction. When that fails (a full disk) the rows stay buffered
   * for the next try and the failure is thrown here — never from the timer, which only remembers it.
   */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.samples.length && !this.events.length) return
    const s = this.db.prepare('INSERT INTO samples (run_id, t_ms, series, value) VALUES (?, ?, ?, ?)')
    const e = this.db.prepare('INSERT INTO events (run_id, t_ms, kind, data) VALUES (?, ?, ?, ?)')
    try {
      this.db.transaction(() => {
        for (const row of this.samples) s.run(...row)
        for (const row of this.events) e.run(...row)
      })()
    } catch (err) {
      // Bounded: a run that cannot write for long keeps its newest rows, not all memory.
      if (this.samples.length > MAX_BUFFERED) this.samples = this.samples.slice(-MAX_BUFFERED)
      throw storeError(this.db, err)
    }
    this.samples = []
    this.events = []
  }

  private schedule(): void {
    if (this.samples.length + this.events.length >= FLUSH_EVERY) this.flushQuietly()
    else this.timer ??= setTimeout(() => this.flushQuietly(), FLUSH_AFTER_MS)
  }

  /** A flush from a probe reply or a timer: its failure waits for `finish`, which reports it. */
  private flushQuietly(): void {
    try {
      this.flush()
    } catch {
      // kept buffered; finish() flushes again and throws the cause
    }
  }
}

const finite = (m: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(m).filter(([, v]) => Number.isFinite(v)))
