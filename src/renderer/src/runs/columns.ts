import type { RunListItem } from '../../../shared/contract/history'
import { METRIC_LABELS, mib, ms } from './format'

/** A column of the runs table: a fixed field, a parameter (`param:<key>`) or a metric (`metric:<key>`). */
export interface Column {
  id: string
  label: string
  /** The server-side sort key (the contract's `runSort.by`). */
  sort: string
  width: string
  value: (r: RunListItem) => string
}

const FIXED: Column[] = [
  { id: 'id', label: '#', sort: 'id', width: '3.5rem', value: (r) => String(r.id) },
  { id: 'started', label: 'Started', sort: 'started', width: '10.5rem', value: (r) => new Date(r.startedAt).toLocaleString() },
  { id: 'lab', label: 'Lab', sort: 'lab', width: '6rem', value: (r) => r.lab ?? '—' },
  { id: 'vm', label: 'VM', sort: 'vm', width: '6rem', value: (r) => r.vm },
  { id: 'strategy', label: 'Strategy', sort: 'strategy', width: '7rem', value: (r) => r.strategy },
  { id: 'workload', label: 'Workload', sort: 'workload', width: '8rem', value: (r) => r.workload },
  { id: 'status', label: 'Status', sort: 'status', width: '6.5rem', value: (r) => r.status },
  { id: 'duration', label: 'Duration', sort: 'duration', width: '6rem', value: (r) => ms(r.durationMs ?? undefined) },
  { id: 'tags', label: 'Tags', sort: 'id', width: '10rem', value: (r) => r.tags.join(', ') },
]

const metricValue = (key: string) => (r: RunListItem) => {
  const v = r.metrics[key]
  if (v === undefined) return '—'
  if (key.endsWith('_bytes')) return mib(v)
  if (key.endsWith('_ms')) return ms(v)
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}
const paramValue = (key: string) => (r: RunListItem) => {
  const v = r.params[key]
  return v === undefined || v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v)
}

export function columnFor(id: string): Column | undefined {
  const fixed = FIXED.find((c) => c.id === id)
  if (fixed) return fixed
  if (id.startsWith('metric:')) {
    const key = id.slice(7)
    return { id, label: (METRIC_LABELS[key] ?? key).replace(/ \((ms|bytes)\)$/, ''), sort: id, width: '7.5rem', value: metricValue(key) }
  }
  if (id.startsWith('param:')) {
    const key = id.slice(6)
    return { id, label: key, sort: id, width: '7.5rem', value: paramValue(key) }
  }
  return undefined
}

export const allColumnIds = (metricKeys: string[], paramKeys: string[]): string[] => [...FIXED.map((c) => c.id), ...metricKeys.map((k) => `metric:${k}`), ...paramKeys.map((k) => `param:${k}`)]

export const DEFAULT_COLUMNS = ['id', 'started', 'vm', 'strategy', 'workload', 'status', 'metric:qemu_downtime_ms', 'metric:stop_resume_ms', 'metric:probe_gap_ms', 'metric:transferred_bytes', 'metric:total_ms', 'tags']

export interface TableView {
  columns: string[]
  sort: { by: string; desc: boolean }
}

const KEY = 'miglab.runs.view'

/** The column choice and sort, remembered in localStorage across sessions. */
export function loadView(): TableView {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as TableView | null
    if (v && Array.isArray(v.columns) && v.columns.every((c) => typeof c === 'string') && typeof v.sort?.by === 'string') return v
  } catch {
    /* a damaged entry falls back to the default */
  }
  return { columns: DEFAULT_COLUMNS, sort: { by: 'started', desc: true } }
}

export const saveView = (v: TableView): void => localStorage.setItem(KEY, JSON.stringify(v))
