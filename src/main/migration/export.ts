import { stringify } from 'csv-stringify/sync'
import { csvCell } from '../csv'
import type { Db } from '../store/db'
import { runSummaries } from '../store/run-detail'

export interface RunsExport {
  filename: string
  mime: string
  content: string
}

/**
 * The history as CSV (one row per run: parameters and metrics as columns, MLflow-style) or JSON.
 * Runs hold no secrets by construction; passwords never reach the database they are read from.
 */
export function exportRuns(db: Db, options: { format: 'csv' | 'json'; labId?: number }): RunsExport {
  const runs = runSummaries(db).filter((r) => options.labId === undefined || r.labId === options.labId)
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
  if (options.format === 'json') return { filename: `miglab-runs-${stamp}.json`, mime: 'application/json', content: JSON.stringify(runs, null, 2) + '\n' }
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort()
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
  const rows = runs.map((r) => [
    r.id,
    r.labId,
    r.vm,
    r.strategy,
    r.workload,
    r.status,
    r.startedAt,
    r.endedAt,
    ...metrics.map((m) => r.metrics[m]),
    ...params.map((p) => r.params[p]),
    (r.error as { code?: string } | undefined)?.code,
  ])
  const header = ['id', 'lab_id', 'vm', 'strategy', 'workload', 'status', 'started_at', 'ended_at', ...metrics, ...params.map((p) => `param.${p}`), 'error_code']
  return { filename: `miglab-runs-${stamp}.csv`, mime: 'text/csv', content: stringify([header, ...rows.map((r) => r.map(csvCell))]) }
}
