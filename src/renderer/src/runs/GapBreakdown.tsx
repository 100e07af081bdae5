import type { RunDetail } from '../../../shared/contract/migration'
import { GAP_PARTS, metricDef } from '../../../shared/metrics'
import { ms } from './format'

export const GAP_COLORS: Record<(typeof GAP_PARTS)[number], string> = {
  gap_source_silent_ms: 'rgba(14,116,144,0.45)',
  gap_downtime_ms: 'rgba(220,38,38,0.55)',
  gap_convergence_ms: 'rgba(245,158,11,0.6)',
  gap_warmup_ms: 'rgba(124,58,237,0.5)',
  gap_return_ms: 'rgba(100,116,139,0.5)',
}

/** Why a run has no decomposition, from its stored `unmeasured` events. */
const reasonOf = (run: RunDetail): string | undefined =>
  run.events.filter((e) => e.kind === 'unmeasured').map((e) => e.data.gap_downtime_ms).find((r): r is string => typeof r === 'string')

/** The client-observed gap as four stacked spans (packet capture on the guest's taps), widths to scale. */
export function GapBreakdown({ run }: { run: RunDetail }) {
  const m = run.metrics
  // The part before STOP exists only where the hypervisor reports STOP.
  const parts = GAP_PARTS.map((key) => ({ key, v: m[key], def: metricDef(key)! })).filter((p) => p.key !== 'gap_source_silent_ms' || p.v !== undefined)
  if (parts.some((p) => p.v === undefined) || m.probe_gap_ms === undefined) {
    const why = reasonOf(run)
    return why ? <p className="muted small" data-testid="gap-breakdown-absent">The gap is not decomposed for this run: {why}.</p> : null
  }
  const total = parts.reduce((a, p) => a + p.v!, 0)
  return (
    <figure className="gap-breakdown" aria-label="Client-observed gap, explained" data-testid="gap-breakdown">
      <figcaption>
        <strong>The client-observed gap, explained</strong> — {ms(m.probe_gap_ms)} from the last reply to the first, seen on the guest's taps
        {m.gap_announce_ms !== undefined && <> · the guest announced itself {ms(m.gap_announce_ms)} after RESUME</>}
      </figcaption>
      <div className="gap-bar">
        {parts.map((p) => (
          <span key={p.key} style={{ flexGrow: p.v!, background: GAP_COLORS[p.key] }} title={`${p.def.label}: ${ms(p.v)} — ${p.def.source}`} />
        ))}
      </div>
      <ul className="gap-legend">
        {parts.map((p) => (
          <li key={p.key} data-testid={`metric-${p.key}`}>
            <i style={{ background: GAP_COLORS[p.key] }} />
            {p.def.label.replace(/^Gap: /, '')} <strong>{ms(p.v)}</strong> <span className="muted">({Math.round((100 * p.v!) / total)} %)</span>
          </li>
        ))}
      </ul>
    </figure>
  )
}
