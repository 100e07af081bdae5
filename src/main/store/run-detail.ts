import type { RunDetail, RunEvent } from '../../shared/contract/migration'
import type { RunSummary } from '../../shared/domain'
import type { Db } from './db'
import { toSummary, type RunRow } from './runs'

interface Row extends RunRow {
  job_id: string | null
  params: string
  environment: string
  error: string | null
}

/** One run with everything it measured: samples grouped by series, events in time order. */
export function runDetail(db: Db, id: number): RunDetail | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined
  if (!r) return undefined
  const samples: Record<string, [number, number][]> = {}
  // Raw rows, one series at a time: a 1 ms probe stores ~100 000 samples per run.
  const rows = db.prepare('SELECT t_ms, value FROM samples WHERE run_id = ? AND series = ? ORDER BY t_ms').raw()
  for (const series of db.prepare('SELECT DISTINCT series FROM samples WHERE run_id = ?').pluck().all(id) as string[]) samples[series] = rows.all(id, series) as [number, number][]
  const events = (db.prepare('SELECT t_ms, kind, data FROM events WHERE run_id = ? ORDER BY t_ms, id').all(id) as { t_ms: number; kind: string; data: string }[]).map(
    (e): RunEvent => ({ tMs: e.t_ms, kind: e.kind, data: JSON.parse(e.data) as Record<string, unknown> }),
  )
  return {
    ...toSummary(r),
    jobId: r.job_id,
    params: JSON.parse(r.params) as Record<string, unknown>,
    environment: JSON.parse(r.environment) as Record<string, unknown>,
    ...(r.error ? { error: JSON.parse(r.error) as RunDetail['error'] } : {}),
    samples,
    events,
  }
}

/** Summaries of the given runs (for comparisons and exports), oldest first. */
export function runSummaries(db: Db, ids?: number[]): (RunSummary & { params: Record<string, unknown>; error?: unknown })[] {
  const rows = (
    ids
      ? db.prepare(`SELECT * FROM runs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`).all(JSON.stringify(ids))
      : db.prepare('SELECT * FROM runs ORDER BY id').all()
  ) as Row[]
  return rows.map((r) => ({
    ...toSummary(r),
    params: JSON.parse(r.params) as Record<string, unknown>,
    ...(r.error ? { error: JSON.parse(r.error) as unknown } : {}),
  }))
}

/** The runs an experiment job wrote, in order (also when it failed or was cancelled). */
export const runIdsOfJob = (db: Db, jobId: string): number[] => db.prepare('SELECT id FROM runs WHERE job_id = ? ORDER BY id').pluck().all(jobId) as number[]
