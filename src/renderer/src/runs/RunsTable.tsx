import { useVirtualizer } from '@tanstack/react-virtual'
import { useEffect, useMemo, useRef } from 'react'
import type { RunListItem } from '../../../shared/contract/history'
import { columnFor, type Column, type TableView } from './columns'

const ROW = 34

/**
 * The history as a table that stays fast at 10 000 runs: only visible rows are rendered, and
 * pages are fetched from the core as the scroll nears the end of what is loaded.
 */
export function RunsTable(props: {
  runs: RunListItem[]
  total: number
  view: TableView
  selected: Set<number>
  onToggle: (id: number) => void
  onOpen: (id: number) => void
  onStar: (r: RunListItem) => void
  onSort: (by: string) => void
  onNeedMore: () => void
}) {
  const { runs, total, view, selected, onToggle, onOpen, onStar, onSort, onNeedMore } = props
  const scroller = useRef<HTMLDivElement>(null)
  const columns = useMemo(() => view.columns.map(columnFor).filter((c): c is Column => !!c), [view.columns])
  const template = `2rem 1.6rem ${columns.map((c) => c.width).join(' ')}`
  const rows = useVirtualizer({ count: total, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 })
  const items = rows.getVirtualItems()
  const last = items[items.length - 1]?.index ?? 0
  useEffect(() => {
    if (last >= runs.length - 20 && runs.length < total) onNeedMore()
  }, [last, runs.length, total, onNeedMore])
  return (
    <div className="vtable" role="table" aria-label="Runs" aria-rowcount={total + 1}>
      <div className="vrow head" role="row" style={{ gridTemplateColumns: template }}>
        <span role="columnheader" className="sel" />
        <span role="columnheader" aria-label="Starred">★</span>
        {columns.map((c) => (
          <span
            key={c.id}
            role="columnheader"
            className={`sortable ${view.sort.by === c.sort && c.id !== 'tags' ? 'sorted' : ''}`}
            aria-sort={view.sort.by === c.sort ? (view.sort.desc ? 'descending' : 'ascending') : 'none'}
            onClick={() => c.id !== 'tags' && onSort(c.sort)}
            title={c.label}
          >
            {c.label}
            {view.sort.by === c.sort && c.id !== 'tags' ? (view.sort.desc ? ' ↓' : ' ↑') : ''}
          </span>
        ))}
      </div>
      <div className="vbody" ref={scroller}>
        <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {items.map((v) => {
            const r = runs[v.index]
            const style = { position: 'absolute' as const, top: 0, transform: `translateY(${v.start}px)`, height: ROW, gridTemplateColumns: template }
            if (!r) return <div key={`p${v.index}`} className="vrow" role="row" style={style} aria-busy="true" />
            return (
              <div key={r.id} className={`vrow ${selected.has(r.id) ? 'selected' : ''}`} role="row" data-testid="run-row" style={style} onClick={() => onOpen(r.id)}>
                <span role="cell" className="sel" onClick={(e) => e.stopPropagation()}>
                  <input type="checkbox" aria-label={`Select run ${r.id}`} checked={selected.has(r.id)} onChange={() => onToggle(r.id)} />
                </span>
                <span role="cell" onClick={(e) => e.stopPropagation()}>
                  <button className={`star ${r.starred ? 'on' : ''}`} aria-label={r.starred ? `Unstar run ${r.id}` : `Star run ${r.id}`} aria-pressed={r.starred} onClick={() => onStar(r)}>
                    {r.starred ? '★' : '☆'}
                  </button>
                </span>
                {columns.map((c) => (
                  <span key={c.id} role="cell" className={c.id === 'status' ? `badge ${r.status}` : undefined} title={c.value(r)}>
                    {c.id === 'tags'
                      ? r.tags.map((t) => (
                          <span key={t} className="tag">
                            {t}
                          </span>
                        ))
                      : c.value(r)}
                    {c.id === 'tags' && r.notes > 0 && <span className="muted small"> ✎{r.notes}</span>}
                  </span>
                ))}
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}
