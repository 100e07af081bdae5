import { useEffect, useMemo, useState } from 'react'
import type { RunDetail } from '../../../shared/contract/migration'
import { useApi, useCall } from '../api'
import { BarChart } from '../charts/BarChart'
import { ErrorBox } from '../ErrorBox'
import { METRIC_LABELS } from './format'

const COLORS = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#4b5563']
const CHARTS = [
  { key: 'qemu_downtime_ms', title: 'Hypervisor downtime', unit: 'ms' },
  { key: 'stop_resume_ms', title: 'STOP → RESUME', unit: 'ms' },
  { key: 'probe_gap_ms', title: 'Client-observed gap', unit: 'ms' },
  { key: 'transferred_bytes', title: 'Data sent', unit: 'MiB', scale: 1 / 1048576 },
  { key: 'total_ms', title: 'Total migration time', unit: 'ms' },
]
// A single run has no spread: its CI arrives as null (NaN in JSON).
const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2))

/** Strategy groups side by side: mean ± 95 % CI per metric, % change against the baseline, and the parameters that differ. */
export function Compare({ ids }: { ids: number[] }) {
  const api = useApi()
  const comparison = useCall('runs.compare', { ids })
  const [runs, setRuns] = useState<RunDetail[]>([])
  const [diffOnly, setDiffOnly] = useState(true)
  useEffect(() => {
    void Promise.all(ids.slice(0, 50).map((id) => api.call('runs.get', { id }))).then(setRuns, () => undefined)
  }, [api, ids])

  const params = useMemo(() => {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
    const rows = keys.map((k) => ({ key: k, values: runs.map((r) => JSON.stringify(r.params[k] ?? null)) }))
    return diffOnly ? rows.filter((r) => new Set(r.values).size > 1) : rows
  }, [runs, diffOnly])

  if (comparison.error) return <ErrorBox error={comparison.error} />
  const c = comparison.data
  if (!c) return <p className="muted">Comparing…</p>
  const groupLabel = (g: (typeof c.groups)[number]) => `${g.strategy} · ${g.workload}`
  const metricKeys = [...new Set(c.groups.flatMap((g) => Object.keys(g.metrics)))].filter((k) => METRIC_LABELS[k])

  return (
    <div className="compare" data-testid="compare">
      <p className="muted">
        {ids.length} runs in {c.groups.length} groups; baseline <strong>{c.baseline}</strong>. Bars are means, whiskers the 95 % confidence interval.
      </p>
      <div className="chart-grid">
        {CHARTS.map((ch) => (
          <BarChart
            key={ch.key}
            title={ch.title}
            unit={ch.unit}
            bars={c.groups.map((g, i) => {
              const s = g.metrics[ch.key]
              const k = ch.scale ?? 1
              return { label: g.strategy, value: (s?.mean ?? 0) * k, ci: (s?.ci95 ?? 0) * k, color: COLORS[i % COLORS.length] }
            })}
          />
        ))}
      </div>
      <table className="table compact" aria-label="Statistics">
        <thead>
          <tr>
            <th>Metric</th>
            {c.groups.map((g, i) => (
              <th key={groupLabel(g)} style={{ color: COLORS[i % COLORS.length] }}>
                {groupLabel(g)} (n={g.runIds.length})
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {metricKeys.map((k) => (
            <tr key={k}>
              <th>{METRIC_LABELS[k]}</th>
              {c.groups.map((g) => {
                const s = g.metrics[k]
                return (
                  <td key={groupLabel(g)}>
                    {s ? (Number.isFinite(s.ci95) ? `${fmt(s.mean)} ± ${fmt(s.ci95)}` : fmt(s.mean)) : '—'}
                    {s?.changePct !== undefined && <span className={s.changePct < 0 ? 'delta down' : 'delta up'}> {s.changePct > 0 ? '+' : ''}{s.changePct.toFixed(1)} %</span>}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <h3>
        Parameters{' '}
        <label className="small">
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
    </div>
  )
}
