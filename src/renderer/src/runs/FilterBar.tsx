import { useEffect, useState } from 'react'
import type { Facets, RunFilter } from '../../../shared/contract/history'

const one = (v: string) => (v ? [v] : undefined)

/** Filter and full-text search over the history; every change becomes one SQL query in the core. */
export function FilterBar({ facets, filter, onChange }: { facets?: Facets; filter: RunFilter; onChange: (f: RunFilter) => void }) {
  const [text, setText] = useState(filter.text ?? '')
  // Typing waits a moment before querying.
  useEffect(() => {
    const t = setTimeout(() => (text !== (filter.text ?? '') ? onChange({ ...filter, text: text || undefined }) : undefined), 200)
    return () => clearTimeout(t)
  }, [text, filter, onChange])
  const metric = filter.metrics?.[0] ?? { key: '' }
  const setMetric = (m: { key: string; min?: number; max?: number }) => onChange({ ...filter, metrics: m.key ? [m] : undefined })
  const numOrUndef = (v: string) => (v.trim() === '' || Number.isNaN(Number(v)) ? undefined : Number(v))
  const set = (patch: Partial<RunFilter>) => onChange(Object.fromEntries(Object.entries({ ...filter, ...patch }).filter(([, v]) => v !== undefined)) as RunFilter)
  const select = (label: string, value: string | undefined, options: { value: string; label: string }[], pick: (v: string) => void) => (
    <label>
      {label}
      <select aria-label={`Filter by ${label.toLowerCase()}`} value={value ?? ''} onChange={(e) => pick(e.target.value)}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  )
  const opts = (xs: string[] | undefined) => (xs ?? []).map((x) => ({ value: x, label: x }))
  return (
    <div className="filters" role="search" aria-label="Filter runs">
      <label>
        Search
        <input className="search" type="search" placeholder="VM, strategy, workload, tag, note…" value={text} onChange={(e) => setText(e.target.value)} aria-label="Search runs" />
      </label>
      {select('Strategy', filter.strategies?.[0], opts(facets?.strategies), (v) => set({ strategies: one(v) }))}
      {select('Workload', filter.workloads?.[0], opts(facets?.workloads), (v) => set({ workloads: one(v) }))}
      {select('Lab', filter.labIds?.[0] !== undefined ? String(filter.labIds[0]) : undefined, (facets?.labs ?? []).map((l) => ({ value: String(l.id), label: l.name })), (v) => set({ labIds: v ? [Number(v)] : undefined }))}
      {select('Status', filter.statuses?.[0], opts(facets?.statuses), (v) => set({ statuses: one(v) as RunFilter['statuses'] }))}
      {select('Tag', filter.tags?.[0], opts(facets?.tags), (v) => set({ tags: one(v) }))}
      <label>
        From
        <input type="date" aria-label="Started from" value={filter.from?.slice(0, 10) ?? ''} onChange={(e) => set({ from: e.target.value ? `${e.target.value}T00:00:00.000Z` : undefined })} />
      </label>
      <label>
        To
        <input type="date" aria-label="Started until" value={filter.to?.slice(0, 10) ?? ''} onChange={(e) => set({ to: e.target.value ? `${e.target.value}T23:59:59.999Z` : undefined })} />
      </label>
      {select('Metric', metric.key || undefined, opts(facets?.metricKeys), (v) => setMetric({ key: v, min: metric.min, max: metric.max }))}
      <label>
        min
        <input key={`min-${metric.key}-${metric.min}`} className="num" aria-label="Metric at least" inputMode="decimal" disabled={!metric.key} defaultValue={metric.min ?? ''} onBlur={(e) => setMetric({ ...metric, min: numOrUndef(e.target.value) })} />
      </label>
      <label>
        max
        <input key={`max-${metric.key}-${metric.max}`} className="num" aria-label="Metric at most" inputMode="decimal" disabled={!metric.key} defaultValue={metric.max ?? ''} onBlur={(e) => setMetric({ ...metric, max: numOrUndef(e.target.value) })} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={!!filter.starred} onChange={(e) => set({ starred: e.target.checked || undefined })} /> ★ only
      </label>
      {Object.keys(filter).length > 0 && (
        <button
          className="subtle small"
          onClick={() => {
            setText('')
            onChange({})
          }}
        >
          Clear
        </button>
      )}
    </div>
  )
}
