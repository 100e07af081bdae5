import { useEffect, useMemo, useState } from 'react'
import type { GroupMetric, MetricGroup, RunFilter } from '../../../shared/contract/history'
import type { RunDetail } from '../../../shared/contract/migration'
import { useApi, useCall } from '../api'
import { BarChart, formatValue } from '../charts/BarChart'
import { BoxChart } from '../charts/BoxChart'
import { ErrorBox } from '../ErrorBox'
import { HEADLINE_METRICS, metricDef, type DriverKind } from '../../../shared/metrics'
import { METRIC_LABELS } from './format'

const COLORS = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#4b5563']
// The headline figures of the registry, each with its chart; bytes are drawn in MiB.
const CHARTS = HEADLINE_METRICS.map((d) => (d.unit === 'bytes' ? { key: d.key, title: d.label, unit: 'MiB', scale: 1 / 1048576 } : { key: d.key, title: d.label, unit: String(d.unit), scale: 1 }))
// A single run has no spread: its CI arrives as null (NaN in JSON).
const fin = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v)
export const fmt = (v: number | null | undefined) => (!fin(v) ? '—' : formatValue(v))
const pct = (c: GroupMetric['change']) => {
  if (!c || !fin(c.pct)) return '—'
  const sign = (v: number) => `${v > 0 ? '+' : ''}${v.toFixed(1)}`
  return fin(c.lo) ? `${sign(c.pct)} % [${sign(c.lo)}, ${sign(c.hi)}]` : `${sign(c.pct)} %`
}
const FIELDS = [
  { id: 'strategy', label: 'strategy' },
  { id: 'workload', label: 'workload' },
  { id: 'workloadClass', label: 'guest (idle / busy)' },
  { id: 'vm', label: 'VM' },
  { id: 'lab', label: 'lab' },
  { id: 'driver', label: 'hypervisor driver' },
]

/** Why a group has no value for a metric: the registry's reason for its driver, else that none of its runs measured it. */
export function absentWhy(key: string, group: MetricGroup): string {
  const def = metricDef(key)
  const reasons = group.drivers.flatMap((d) => (def?.absent?.[d as DriverKind] ? [`${d}: ${def.absent[d as DriverKind]}`] : []))
  return reasons.length ? reasons.join('; ') : 'none of its runs measured it'
}

/** Under a chart: each group that has no bar in it, and why. */
function AbsentNote({ metric, groups }: { metric: string; groups: MetricGroup[] }) {
  const missing = groups.filter((g) => !fin(g.metrics[metric]?.mean))
  if (!missing.length) return null
  return (
    <ul className="muted small absent" data-testid={`absent-${metric}`}>
      {missing.map((g) => (
        <li key={g.key}>
          {g.key}: not measured ({absentWhy(metric, g)})
        </li>
      ))}
    </ul>
  )
}

/** How much less downtime (each of the three) and data than the baseline, for idle and busy guests. */
function ThesisView({ filter }: { filter: RunFilter }) {
  const thesis = useCall('runs.thesis', { filter, baseline: 'precopy' })
  if (thesis.error) return <ErrorBox error={thesis.error} />
  const t = thesis.data
  if (!t) return <p className="muted">Computing…</p>
  if (!t.rows.length) return <p className="empty">The thesis view needs succeeded pre-copy runs and another strategy on an idle or busy (memory-dirtying) guest.</p>
  return (
    <section aria-label="Thesis view" data-testid="thesis">
      <h2>Against {t.baseline}: how much less?</h2>
      <p className="muted small">Change of the mean against {t.baseline} with the same kind of guest, with its own 95 % interval (Welch). Negative is less; an interval that crosses 0 is not distinguishable.</p>
      <table className="table compact thesis">
        <thead>
          <tr>
            <th>Guest</th>
            <th>Strategy</th>
            <th>n (baseline n)</th>
            {t.metrics.map((m) => (
              <th key={m}>{metricDef(m)?.label ?? m}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {t.rows.map((r) => (
            <tr key={`${r.guest}-${r.strategy}`} data-testid={`thesis-${r.guest}-${r.strategy}`}>
              <th>{r.guest}</th>
              <th>{r.strategy}</th>
              <td>
                {r.n} ({r.baselineN})
              </td>
              {t.metrics.map((m) => {
                const c = r.change[m]
                const verdict = c && fin(c.hi) ? (c.hi < 0 ? 'good' : c.lo > 0 ? 'bad' : '') : ''
                return (
                  <td key={m} className={verdict} data-metric={m} title={c ? `mean ${fmt(c.mean)} vs ${fmt(c.baselineMean)} for ${t.baseline}` : undefined}>
                    {pct(c)}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

/** Groups side by side: by any field or parameter, per metric n, mean ± 95 % CI, sd, and % change against a chosen baseline group. */
export function Compare({ filter }: { filter: RunFilter }) {
  const api = useApi()
  const facets = useCall('runs.facets', {})
  const [groupBy, setGroupBy] = useState<string[]>(['strategy', 'workload'])
  // Until the user picks a grouping, runs of different hypervisors are never pooled into one group.
  const [picked, setPicked] = useState(false)
  const [baseline, setBaseline] = useState<string>()
  const [diffOnly, setDiffOnly] = useState(true)
  const [tab, setTab] = useState<'groups' | 'thesis'>('groups')
  const [chart, setChart] = useState<'bars' | 'boxes'>('bars')
  const grouped = useCall('runs.group', { filter, groupBy, ...(baseline ? { baseline } : {}) })
  const [runs, setRuns] = useState<RunDetail[]>([])
  const ids = filter.ids ?? []
  useEffect(() => {
    // The parameter diff is for runs picked by hand; a large group compares by its statistics.
    if (ids.length > 30) return setRuns([])
    void Promise.all(ids.map((id) => api.call('runs.get', { id }))).then(setRuns, () => undefined)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, ids.join(',')])

  const params = useMemo(() => {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
    const rows = keys.map((k) => ({ key: k, values: runs.map((r) => JSON.stringify(r.params[k] ?? null)) }))
    return diffOnly ? rows.filter((r) => new Set(r.values).size > 1) : rows
  }, [runs, diffOnly])

  const fields = [...FIELDS, ...(facets.data?.paramKeys ?? []).map((k) => ({ id: `param:${k}`, label: `parameter ${k}` }))]
  const c = grouped.data
  useEffect(() => {
    if (!picked && !groupBy.includes('driver') && c?.groups.some((g) => g.drivers.length > 1)) setGroupBy(['driver', ...groupBy].slice(0, 4))
  }, [c, picked, groupBy])
  const metricKeys = c ? [...new Set(c.groups.flatMap((g) => Object.keys(g.metrics)))].sort((a, b) => Number(!METRIC_LABELS[a]) - Number(!METRIC_LABELS[b]) || a.localeCompare(b)) : []
  // Many groups or long names (a custom command): charts label bars 1…n, the legend above names them.
  const numbered = !!c && (c.groups.length > 3 || c.groups.some((g) => g.key.length > 28))
  const short = (key: string, i: number) => (numbered ? String(i + 1) : key)
  const setField = (i: number, v: string) => {
    const next = [...groupBy]
    if (v) next[i] = v
    else next.splice(i, 1)
    setBaseline(undefined)
    setPicked(true)
    setGroupBy([...new Set(next)])
  }

  return (
    <div className="compare" data-testid="compare">
      <div className="tabs">
        <button className={`tab ${tab === 'groups' ? 'active' : ''}`} onClick={() => setTab('groups')}>
          Groups
        </button>
        <button className={`tab ${tab === 'thesis' ? 'active' : ''}`} onClick={() => setTab('thesis')}>
          Thesis view
        </button>
      </div>
      {tab === 'thesis' ? (
        <ThesisView filter={filter} />
      ) : (
        <>
          <div className="filters" aria-label="Grouping">
            {[0, 1].map((i) => (
              <label key={i}>
                {i === 0 ? 'Group by' : 'then by'}
                <select aria-label={i === 0 ? 'Group by' : 'Then group by'} value={groupBy[i] ?? ''} onChange={(e) => setField(i, e.target.value)}>
                  {i > 0 && <option value="">—</option>}
                  {fields.map((f) => (
                    <option key={f.id} value={f.id}>
                      {f.label}
                    </option>
                  ))}
                </select>
              </label>
            ))}
            <label>
              Baseline group
              <select aria-label="Baseline group" value={c?.baseline ?? ''} onChange={(e) => setBaseline(e.target.value)}>
                {c?.groups.map((g) => (
                  <option key={g.key}>{g.key}</option>
                ))}
              </select>
            </label>
          </div>
          {grouped.error && <ErrorBox error={grouped.error} />}
          {!c && !grouped.error && <p className="muted">Comparing…</p>}
          {c && (
            <>
              <p className="muted">
                {c.groups.reduce((n, g) => n + g.runIds.length, 0)} succeeded runs in {c.groups.length} groups; baseline <strong>{c.baseline}</strong>. Bars are means, whiskers the 95 % confidence interval.
              </p>
              <div className="tabs" role="radiogroup" aria-label="Chart kind">
                {(['bars', 'boxes'] as const).map((k) => (
                  <label key={k} className="inline small">
                    <input type="radio" name="chart-kind" checked={chart === k} onChange={() => setChart(k)} /> {k === 'bars' ? 'means ± 95 % CI' : 'box plots (spread)'}
                  </label>
                ))}
              </div>
              {numbered && (
                <p className="legend small" aria-label="Groups">
                  {c.groups.map((g, i) => (
                    <span key={g.key} style={{ color: COLORS[i % COLORS.length] }}>
                      {i + 1} {g.key}
                      {'  '}
                    </span>
                  ))}
                </p>
              )}
              <div className="chart-grid">
                {CHARTS.filter((ch) => metricKeys.includes(ch.key)).map((ch) => (
                  <div key={ch.key}>
                    {chart === 'boxes' ? (
                      <BoxChart
                        title={ch.title}
                        unit={ch.unit}
                        boxes={c.groups.map((g, i) => {
                          const b = g.metrics[ch.key]?.box
                          const k = ch.scale
                          return { label: short(g.key, i), min: (b?.min ?? NaN) * k, q1: (b?.q1 ?? NaN) * k, median: (b?.median ?? NaN) * k, q3: (b?.q3 ?? NaN) * k, max: (b?.max ?? NaN) * k, color: COLORS[i % COLORS.length] }
                        })}
                      />
                    ) : (
                      <BarChart
                        title={ch.title}
                        unit={ch.unit}
                        bars={c.groups.map((g, i) => {
                          const s = g.metrics[ch.key]
                          const k = ch.scale
                          return { label: short(g.key, i), value: fin(s?.mean) ? s.mean * k : NaN, ci: fin(s?.ci95) ? s.ci95 * k : 0, color: COLORS[i % COLORS.length] }
                        })}
                      />
                    )}
                    <AbsentNote metric={ch.key} groups={c.groups} />
                  </div>
                ))}
              </div>
              <table className="table compact" aria-label="Statistics">
                <thead>
                  <tr>
                    <th>Metric</th>
                    {c.groups.map((g, i) => (
                      <th key={g.key} style={{ color: COLORS[i % COLORS.length] }}>
                        {g.key} (n={g.runIds.length}){g.key === c.baseline ? ' · baseline' : ''}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {metricKeys.map((k) => (
                    <tr key={k} data-metric={k}>
                      <th>{(METRIC_LABELS[k] ?? k).replace('(bytes)', '(MiB)')}</th>
                      {c.groups.map((g) => {
                        const raw = g.metrics[k]
                        const k2 = k.endsWith('_bytes') ? 1 / 1048576 : 1
                        const sc = (v: number) => (fin(v) ? v * k2 : v)
                        const s = raw && { ...raw, mean: sc(raw.mean), sd: sc(raw.sd), ci95: sc(raw.ci95) }
                        return (
                          <td key={g.key} title={s ? undefined : `not measured: ${absentWhy(k, g)}`}>
                            {s ? (fin(s.ci95) ? `${fmt(s.mean)} ± ${fmt(s.ci95)}` : fmt(s.mean)) : '—'}
                            {s && <span className="muted small"> sd {fmt(s.sd)}, n {s.n}</span>}
                            {s?.change && <span className={s.change.pct < 0 ? 'delta down' : 'delta up'}> {pct(s.change)}</span>}
                          </td>
                        )
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {runs.length > 0 && (
            <>
              <h3>
                Parameters{' '}
                <label className="inline small">
                  <input type="checkbox" checked={diffOnly} onChange={(e) => setDiffOnly(e.target.checked)} /> differences only
                </label>
              </h3>
              <table className="table compact" aria-label="Parameters">
                <thead>
                  <tr>
                    <th>Parameter</th>
                    {runs.map((r) => (
                      <th key={r.id}>#{r.id}</th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {params.map((p) => (
                    <tr key={p.key}>
                      <th>{p.key}</th>
                      {p.values.map((v, i) => (
                        <td key={i}>{v}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </div>
  )
}
