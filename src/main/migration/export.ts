import { stringify } from 'csv-stringify/sync'
import type { ExportFormat, RunFilter } from '../../shared/contract/history'
import { buildBundle, gzipBundle } from '../store/bundle'
import type { Db } from '../store/db'
import { HistoryRepo } from '../store/history'

export interface RunsExport {
  filename: string
  mime: string
  content: string
  /** base64 when the content is binary (the gzip bundle). */
  encoding?: 'base64'
}

/**
 * A cell a spreadsheet will not run as a formula: text starting with = + - @ (or tab / CR, which
 * some spreadsheets skip before one) gets a leading apostrophe; plain numbers stay numbers.
 * The one place CSV cells are neutralised (OWASP "CSV injection").
 */
export function csvSafe(v: unknown): string | number {
  if (v === undefined || v === null) return ''
  if (typeof v === 'number') return Number.isFinite(v) ? v : ''
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v)
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return s
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
}

/**
 * The history as CSV (one row per run: identity, tags, notes, times, parameters and metrics as
 * columns, MLflow-style), JSON (everything, time series included) or a bundle (that JSON gzip'd,
 * for `miglab runs import` on another machine). Runs hold no secrets by construction.
 */
export function exportRuns(db: Db, options: { format: ExportFormat; labId?: number; filter?: RunFilter; appVersion?: string }): RunsExport {
  const filter: RunFilter = { ...options.filter, ...(options.labId !== undefined ? { labIds: [options.labId] } : {}) }
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
  if (options.format !== 'csv') {
    const doc = buildBundle(db, filter, options.appVersion ?? '0')
    if (options.format === 'json') return { filename: `miglab-runs-${stamp}.json`, mime: 'application/json', content: JSON.stringify(doc) + '\n' }
    return { filename: `miglab-runs-${stamp}.miglab`, mime: 'application/gzip', content: gzipBundle(doc).toString('base64'), encoding: 'base64' }
  }
  const repo = new HistoryRepo(db)
  const runs = repo.query(filter, { by: 'id', desc: false }, 0, 1_000_000).runs
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort()
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
  const notes = db.prepare('SELECT text FROM notes WHERE run_id = ? ORDER BY at, id').pluck()
  const errors = db.prepare("SELECT json_extract(error, '$.code') FROM runs WHERE id = ?").pluck()
  const header = ['id', 'uuid', 'lab_id', 'lab', 'vm', 'strategy', 'workload', 'status', 'started_at', 'ended_at', 'duration_ms', 'starred', 'tags', 'notes', ...params.map((p) => `param.${p}`), ...metrics, 'error_code']
  const rows = runs.map((r) => [
    r.id,
    r.uuid,
    r.labId,
    r.lab,
    r.vm,
    r.strategy,
    r.workload,
    r.status,
    r.startedAt,
    r.endedAt,
    r.durationMs,
    r.starred ? 1 : 0,
    r.tags.join('; '),
    r.notes ? (notes.all(r.id) as string[]).join('\n---\n') : '',
    ...params.map((p) => r.params[p]),
    ...metrics.map((m) => r.metrics[m]),
    errors.get(r.id),
  ])
  return { filename: `miglab-runs-${stamp}.csv`, mime: 'text/csv', content: stringify([header, ...rows].map((row) => row.map(csvSafe))) }
}
