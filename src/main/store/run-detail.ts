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

/** One run with everything it measured: samples grouped by series (every sample), events in time order. */
export function runDetail(db: Db, id: number): RunDetail | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined
  if (!r) return undefined
  const samples: Record<string, [number, number][]> = {}
  // Raw rows, one series at a time: a 1 ms probe stores ~100 000 samples per run.
  const rows = db.prepare('SELECT t_ms, value FROM samples WHERE run_id = ? AND series = ? ORDER BY t_ms').raw()
  for (const series of db.prepare('SELECT DISTINCT series FROM samples WHERE run_id = ?').pluck().all(id) as string[]) samples[series] = rows.all(id, series) as [number, number][]
  return detailOf(db, r, samples)
}

/**
 * One run for viewing: each series longer than 4 × `buckets` points thinned in SQL to its first,
 * lowest, highest and last sample per time bucket (the same buckets as shared/decimate, so spikes
 * and gaps survive), without reading every row into JavaScript. `thinned`: series → samples stored.
 * Exports read runDetail, which keeps every sample.
 */
export function runDetailThinned(db: Db, id: number, buckets: number): (RunDetail & { thinned: Record<string, number> }) | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined
  if (!r) return undefined
  const samples: Record<string, [number, number][]> = {}
  const thinned: Record<string, number> = {}
  const shape = db.prepare('SELECT series, count(*) AS n, min(t_ms) AS t0, max(t_ms) AS t1 FROM samples WHERE run_id = ? GROUP BY series').all(id) as { series: string; n: number; t0: number; t1: number }[]
  const all = db.prepare('SELECT t_ms, value FROM samples WHERE run_id = ? AND series = ? ORDER BY t_ms').raw()
  // Per bucket four rows, each the row an aggregate picked (SQLite's bare columns): min(t_ms) → the
  // first, max(t_ms) → the last, min(value)/max(value) → the lowest/highest. Ties: one of the tied rows.
  const few = db
    .prepare(
      `WITH s AS (SELECT rowid AS r, t_ms AS t, value AS v, (t_ms - @t0) * @buckets / @span AS x FROM samples WHERE run_id = @id AND series = @series),
       b AS (SELECT r, t, v, max(0, min(@buckets - 1, CAST(x AS INTEGER) + (x > CAST(x AS INTEGER)) - 1)) AS b FROM s)
       SELECT r, t, v FROM (SELECT r, min(t) AS t, v FROM b GROUP BY b)
       UNION SELECT r, t, v FROM (SELECT r, max(t) AS t, v FROM b GROUP BY b)
       UNION SELECT r, t, v FROM (SELECT r, t, min(v) AS v FROM b GROUP BY b)
       UNION SELECT r, t, v FROM (SELECT r, t, max(v) AS v FROM b GROUP BY b)
       ORDER BY t, r`,
    )
    .raw()
  for (const { series, n, t0, t1 } of shape) {
    if (n <= buckets * 4) {
      samples[series] = all.all(id, series) as [number, number][]
      continue
    }
    samples[series] = (few.all({ id, series, t0, span: t1 - t0 || 1, buckets }) as [number, number, number][]).map(([, t, v]) => [t, v])
    thinned[series] = n
  }
  return { ...detailOf(db, r, samples), thinned }
}

function detailOf(db: Db, r: Row, samples: Record<string, [number, number][]>): RunDetail {
  const id = r.id
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
