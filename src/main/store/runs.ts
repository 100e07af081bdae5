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

  /**
   * Runs a dead process left `running` become `interrupted`, keeping all they measured; their ids.
   * Call after the jobs' reconciliation: a run whose job still runs (in another process) is left alone.
   */
  markInterrupted(): number[] {
    return this.db
      .prepare(
        `UPDATE runs SET status = 'interrupted', ended_at = ?,
           error = '{"code":"interrupted","message":"MigLab stopped during this run; what it measured so far is kept."}'
         WHERE status = 'running' AND (job_id IS NULL OR job_id NOT IN (SELECT id FROM jobs WHERE status = 'running')) RETURNING id`,
      )
      .pluck()
      .all(now()) as number[]
  }

  /** What was derived for an interrupted run from its stored data, and when it really ended. */
  recordRecovery(id: number, metrics: Record<string, number>, endedAt: string): void {
    this.db.prepare('UPDATE runs SET metrics = ?, ended_at = ? WHERE id = ?').run(JSON.stringify(metrics), endedAt, id)
  }

  /** Interrupted runs on a lab whose VM placement has not been checked since. */
  awaitingPlacement(): { id: number; labId: number; vm: string; startedAt: string }[] {
    return this.db
      .prepare(
        `SELECT id, lab_id AS labId, vm, started_at AS startedAt FROM runs r WHERE status = 'interrupted' AND lab_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.run_id = r.id AND e.kind = 'placement')`,
      )
      .all() as { id: number; labId: number; vm: string; startedAt: string }[]
  }
}
