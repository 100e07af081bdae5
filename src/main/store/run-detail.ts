import type { RunDetail, RunEvent } from '../../shared/contract/migration'
import type { RunSummary } from '../../shared/domain'
import { decimate } from '../../shared/decimate'
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
  return detailOf(db, r, readSamples(db, id))
}

function readSamples(db: Db, id: number): Record<string, [number, number][]> {
  const samples: Record<string, [number, number][]> = {}
  // Raw rows, one series at a time: a 1 ms probe stores ~100 000 samples per run.
  const rows = db.prepare('SELECT t_ms, value FROM samples WHERE run_id = ? AND series = ? ORDER BY t_ms').raw()
  for (const series of db.prepare('SELECT DISTINCT series FROM samples WHERE run_id = ?').pluck().all(id) as string[]) samples[series] = rows.all(id, series) as [number, number][]
  return samples
}

type Thinned = { samples: Record<string, [number, number][]>; thinned: Record<string, number> }
/** Thinned series of finished runs (their samples never change), per database: the last few opened. */
const thinCache = new WeakMap<Db, Map<string, Thinned>>()
const THIN_CACHE_RUNS = 8

/**
 * One run for viewing: each series longer than 4 × `buckets` points thinned to its first, lowest,
 * highest and last sample per time bucket (shared/decimate: spikes and gaps survive).
 * `thinned`: series → samples stored. Exports read runDetail, which keeps every sample.
 * Thinning in SQL (GROUP BY bucket, one bare-column query per kept point) was measured 2–3× slower
 * than reading the raw rows and thinning here: each GROUP BY sorts the series again. Reading 120 000
 * rows is most of the cost, so a finished run's thinned series are kept for the next opening.
 */
export function runDetailThinned(db: Db, id: number, buckets: number): (RunDetail & { thinned: Record<string, number> }) | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as (Row & { uuid: string | null }) | undefined
  if (!r) return undefined
  const cache = thinCache.get(db) ?? new Map<string, Thinned>()
  thinCache.set(db, cache)
  const key = `${id}:${r.uuid}:${r.status}:${r.ended_at}:${buckets}`
  let hit = r.status === 'running' ? undefined : cache.get(key)
  if (!hit) {
    const samples = readSamples(db, id)
    const thinned: Record<string, number> = {}
    for (const [series, points] of Object.entries(samples)) {
      const few = decimate(points, buckets)
      if (few !== points) thinned[series] = points.length
      samples[series] = few
    }
    hit = { samples, thinned }
    if (r.status !== 'running') cache.set(key, hit)
    while (cache.size > THIN_CACHE_RUNS) cache.delete(cache.keys().next().value!)
  }
  // Fresh objects per answer: the cached arrays are shared and never handed out for changing.
  return { ...detailOf(db, r, { ...hit.samples }), thinned: { ...hit.thinned } }
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
