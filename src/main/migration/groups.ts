import type { GroupedComparison, GroupMetric, MetricGroup, ThesisRow, ThesisView } from '../../shared/contract/history'
import { changeCi, fiveNumbers, summarize } from './stats'

/** What grouping needs of a run: its fields, parameters and metrics. */
export interface GroupableRun {
  id: number
  strategy: string
  workload: string
  vm: string
  lab?: string | null
  /** The driver that ran it (the run's environment), null for runs stored before drivers were recorded. */
  driver?: string | null
  status: string
  params: Record<string, unknown>
  metrics: Record<string, number>
}

/** idle guests, busy guests (they dirty memory), or neither (a network service, a custom command). */
// `echo` is the idle guest by name: every guest MigLab boots answers the probe ("idle + probe").
export const guestClass = (workload: string): 'idle' | 'busy' | 'other' => (workload === 'idle' || workload === 'echo' ? 'idle' : workload.startsWith('dirty') ? 'busy' : 'other')

export function fieldValue(r: GroupableRun, field: string): string {
  if (field.startsWith('param:')) {
    const v = r.params[field.slice(6)]
    return v === undefined || v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  if (field === 'workloadClass') return guestClass(r.workload)
  if (field === 'lab') return r.lab ?? '—'
  if (field === 'driver') return r.driver ?? '—'
  return String(r[field as 'strategy' | 'workload' | 'vm' | 'status'])
}

/** A run whose probe had no clean baseline never feeds a client figure (it stays flagged on the run). */
export const usableFor = (r: Pick<GroupableRun, 'metrics'>, key: string): boolean => !(key.startsWith('probe_') && r.metrics.probe_baseline_clean === 0)

const metricStats = (runs: GroupableRun[]): Record<string, GroupMetric> => {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort()
  return Object.fromEntries(
    keys.map((k) => {
      const xs = runs.filter((r) => usableFor(r, k)).map((r) => r.metrics[k]).filter((v) => Number.isFinite(v))
      return [k, { ...summarize(xs), box: fiveNumbers(xs) }]
    }),
  )
}

/**
 * Succeeded runs grouped by any fields and parameters; per metric n, mean, sd, 95 % CI, and the
 * % change against the baseline group with its own 95 % interval (Welch). Groups in key order.
 */
export function groupRuns(runs: GroupableRun[], groupBy: string[], baseline?: string): GroupedComparison {
  const byKey = new Map<string, GroupableRun[]>()
  for (const r of runs) {
    if (r.status !== 'succeeded') continue
    const key = groupBy.map((f) => fieldValue(r, f)).join(' · ')
    byKey.set(key, [...(byKey.get(key) ?? []), r])
  }
  const groups: MetricGroup[] = [...byKey.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([key, rs]) => ({ key, values: Object.fromEntries(groupBy.map((f) => [f, fieldValue(rs[0], f)])), runIds: rs.map((r) => r.id), drivers: [...new Set(rs.flatMap((r) => (r.driver ? [r.driver] : [])))].sort(), metrics: metricStats(rs) }))
  // Default baseline: the pre-copy group when there is one (what every strategy is measured against).
  const base = groups.find((g) => g.key === baseline) ?? groups.find((g) => Object.values(g.values).includes('precopy')) ?? groups[0]
  for (const g of groups) {
    if (!base || g === base) continue
    for (const [k, s] of Object.entries(g.metrics)) {
      const b = base.metrics[k]
      if (b && b.n > 0 && s.n > 0) s.change = changeCi(s, b)
    }
  }
  return { groupBy, baseline: base?.key ?? null, groups }
}

/** The figures a thesis on migration strategies reports: the three downtimes, then the data sent. */
export const THESIS_METRICS = ['qemu_downtime_ms', 'stop_resume_ms', 'probe_gap_ms', 'transferred_bytes']

/**
 * For idle and busy guests: how much less downtime (each of the three) and data each strategy
 * needs than the baseline (pre-copy), with 95 % intervals. Metrics absent from the runs are left out.
 */
export function thesisView(runs: GroupableRun[], baseline = 'precopy', metrics = THESIS_METRICS): ThesisView {
  const rows: ThesisRow[] = []
  const present = metrics.filter((m) => runs.some((r) => Number.isFinite(r.metrics[m])))
  for (const guest of ['idle', 'busy'] as const) {
    const mine = runs.filter((r) => guestClass(r.workload) === guest)
    const g = groupRuns(mine, ['strategy'], baseline)
    const base = g.groups.find((x) => x.key === baseline)
    if (!base) continue
    for (const s of g.groups) {
      if (s === base) continue
      const change: ThesisRow['change'] = {}
      for (const m of present) {
        const a = s.metrics[m]
        const b = base.metrics[m]
        if (a?.change && b) change[m] = { ...a.change, mean: a.mean, baselineMean: b.mean }
      }
      rows.push({ guest, strategy: s.key, n: s.runIds.length, baselineN: base.runIds.length, change })
    }
  }
  return { baseline, metrics: present, rows }
}
