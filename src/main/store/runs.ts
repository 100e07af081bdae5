import type { RunStatus, RunSummary } from '../../shared/domain'
import { now, type Db } from './db'

export interface RunRow {
  id: number
  lab_id: number | null
  vm: string
  strategy: string
  workload: string
  status: RunStatus
  metrics: string
  started_at: string
  ended_at: string | null
  tags?: string | null
}

/** A runs row as the summary every list, comparison and export shows. */
export const toSummary = (r: RunRow): RunSummary => ({
  id: r.id,
  labId: r.lab_id,
  vm: r.vm,
  strategy: r.strategy,
  workload: r.workload,
  status: r.status,
  startedAt: r.started_at,
  ...(r.ended_at ? { endedAt: r.ended_at } : {}),
  metrics: JSON.parse(r.metrics) as Record<string, number>,
  tags: r.tags ? r.tags.split('\u001f') : [],
})

/** Migration runs, their time series and events. Written as measured so a crash loses nothing. */
export class RunsRepo {
  constructor(private readonly db: Db) {}

  list(labId?: number): RunSummary[] {
    const rows = this.db
      .prepare(
        `SELECT r.*, (SELECT group_concat(tag, char(31)) FROM tags t WHERE t.run_id = r.id) AS tags
         FROM runs r WHERE (? IS NULL OR r.lab_id = ?) ORDER BY r.started_at DESC, r.id DESC`,
      )
      .all(labId ?? null, labId ?? null) as RunRow[]
    return rows.map(toSummary)
  }

  /** Runs a dead process left `running` become `interrupted`, keeping all they measured. */
  markInterrupted(): number {
    return this.db
      .prepare(
        `UPDATE runs SET status = 'interrupted', ended_at = ?,
           error = '{"code":"interrupted","message":"MigLab stopped during this run; what it measured so far is kept."}'
         WHERE status = 'running'`,
      )
      .run(now()).changes
  }
}
