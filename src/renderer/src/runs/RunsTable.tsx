import { useVirtualizer } from '@tanstack/react-virtual'
import { useRef } from 'react'
import type { RunSummary } from '../../../shared/domain'
import { mib, ms } from './format'

const COLUMNS: { key: string; label: string; value: (r: RunSummary) => string }[] = [
  { key: 'id', label: '#', value: (r) => String(r.id) },
  { key: 'started', label: 'Started', value: (r) => new Date(r.startedAt).toLocaleString() },
  { key: 'vm', label: 'VM', value: (r) => r.vm },
  { key: 'strategy', label: 'Strategy', value: (r) => r.strategy },
  { key: 'workload', label: 'Workload', value: (r) => r.workload },
  { key: 'status', label: 'Status', value: (r) => r.status },
  { key: 'qemu', label: 'Hypervisor downtime', value: (r) => ms(r.metrics.qemu_downtime_ms) },
  { key: 'stop', label: 'STOP→RESUME', value: (r) => ms(r.metrics.stop_resume_ms) },
  { key: 'gap', label: 'Client gap', value: (r) => ms(r.metrics.probe_gap_ms) },
  { key: 'sent', label: 'Data sent', value: (r) => (r.metrics.transferred_bytes !== undefined ? mib(r.metrics.transferred_bytes) : '—') },
  { key: 'total', label: 'Total time', value: (r) => ms(r.metrics.total_ms) },
]
const ROW = 34

/** The history as a table that stays fast with thousands of runs: only visible rows are rendered. */
export function RunsTable({ runs, selected, onToggle, onOpen }: { runs: RunSummary[]; selected: Set<number>; onToggle: (id: number) => void; onOpen: (id: number) => void }) {
  const scroller = useRef<HTMLDivElement>(null)
  const rows = useVirtualizer({ count: runs.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 })
  return (
    <div className="vtable" role="table" aria-label="Runs" aria-rowcount={runs.length + 1}>
      <div className="vrow head" role="row">
        <span role="columnheader" className="sel" />
        {COLUMNS.map((c) => (
          <span key={c.key} role="columnheader">
            {c.label}
          </span>
        ))}
      </div>
      <div className="vbody" ref={scroller}>
        <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {rows.getVirtualItems().map((v) => {
            const r = runs[v.index]
            return (
              <div key={r.id} className={`vrow ${selected.has(r.id) ? 'selected' : ''}`} role="row" data-testid="run-row" style={{ position: 'absolute', top: 0, transform: `translateY(${v.start}px)`, height: ROW }} onClick={() => onOpen(r.id)}>
                <span role="cell" className="sel" onClick={(e) => e.stopPropagation()}>
                  <input type="checkbox" aria-label={`Select run ${r.id}`} checked={selected.has(r.id)} onChange={() => onToggle(r.id)} />
                </span>
                {COLUMNS.map((c) => (
                  <span key={c.key} role="cell" className={c.key === 'status' ? `badge ${r.status}` : undefined}>
                    {c.value(r)}
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
