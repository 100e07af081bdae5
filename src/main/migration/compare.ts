import type { Comparison, GroupStats, MetricStats } from '../../shared/contract/migration'
import type { RunSummary } from '../../shared/domain'
import { usableFor } from './groups'
import { changeCi, summarize } from './stats'

/**
 * Groups succeeded runs by strategy × workload and compares each metric with the baseline
 * strategy's group of the same workload. A figure that cannot be known (ci95 of one run) is NaN,
 * which JSON carries as null — never a made-up 0.
 */
export function compareRuns(runs: RunSummary[], baseline = 'precopy'): Comparison {
  const groups = new Map<string, RunSummary[]>()
  for (const r of runs.filter((r) => r.status === 'succeeded')) {
    const key = `${r.strategy}\u0000${r.workload}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const stats = (rs: RunSummary[]): Record<string, MetricStats> => {
    const names = [...new Set(rs.flatMap((r) => Object.keys(r.metrics)))].sort()
    return Object.fromEntries(names.map((m) => [m, summarize(rs.filter((r) => usableFor(r, m)).map((r) => r.metrics[m]).filter((v) => Number.isFinite(v)))]))
  }
  const out: GroupStats[] = [...groups.values()].map((rs) => ({ strategy: rs[0].strategy, workload: rs[0].workload, runIds: rs.map((r) => r.id), metrics: stats(rs) }))
  for (const g of out) {
    const base = out.find((b) => b.strategy === baseline && b.workload === g.workload)
    if (!base || base === g) continue
    for (const [m, s] of Object.entries(g.metrics)) {
      const b = base.metrics[m]
      if (!b) continue
      const c = changeCi(s, b)
      s.changePct = c.pct
      s.change = { lo: c.lo, hi: c.hi, distinguishable: c.distinguishable, ...(c.neededN ? { neededN: c.neededN } : {}) }
    }
  }
  out.sort((a, b) => a.workload.localeCompare(b.workload) || (a.strategy === baseline ? -1 : b.strategy === baseline ? 1 : a.strategy.localeCompare(b.strategy)))
  return { baseline, groups: out }
}
