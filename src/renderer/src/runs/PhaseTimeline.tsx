import type { RunDetail } from '../../../shared/contract/migration'
import { PHASE_EVENT } from '../../../shared/metrics'
import { ms } from './format'

const SHADES = ['rgba(37,99,235,0.55)', 'rgba(8,145,178,0.55)', 'rgba(124,58,237,0.5)', 'rgba(5,150,105,0.5)', 'rgba(217,119,6,0.55)', 'rgba(100,116,139,0.5)']

/**
 * The hypervisor's phases as it announced them (e.g. xl migrate's lines), each span from one
 * announcement to the next, widths to scale; the client-observed gap is drawn under them on the same scale.
 */
export function PhaseTimeline({ run }: { run: RunDetail }) {
  const phases = run.events.filter((e) => e.kind === PHASE_EVENT).map((e) => ({ tMs: e.tMs, label: String(e.data.label ?? e.data.phase) }))
  if (phases.length < 2) return null
  const start = phases[0].tMs
  const end = phases[phases.length - 1].tMs
  const spans = phases.slice(1).map((p, i) => ({ to: p.label, from: phases[i].label, ms: p.tMs - phases[i].tMs }))
  const m = run.metrics
  const at = (t: number) => `${(100 * Math.min(Math.max(t - start, 0), end - start)) / (end - start || 1)}%`
  const gap = m.probe_gap_start_ms !== undefined && m.probe_gap_end_ms !== undefined ? { left: at(m.probe_gap_start_ms), right: at(m.probe_gap_end_ms) } : undefined
  return (
    <figure className="gap-breakdown" aria-label="Phase timeline" data-testid="phase-timeline">
      <figcaption>
        <strong>Phase timeline</strong> — {ms(end - start)} from the first announcement to the last, as the hypervisor printed them (stamped on arrival)
      </figcaption>
      <div className="gap-bar">
        {spans.map((s, i) => (
          <span key={i} style={{ flexGrow: Math.max(s.ms, 0), background: SHADES[i % SHADES.length] }} title={`${s.from} → ${s.to}: ${ms(s.ms)}`} />
        ))}
      </div>
      {gap && (
        <div className="phase-gap" title={`client-observed gap ${ms(m.probe_gap_ms)}`}>
          <span style={{ left: gap.left, width: `calc(${gap.right} - ${gap.left})` }} />
        </div>
      )}
      <ol className="gap-legend">
        {spans.map((s, i) => (
          <li key={i} data-testid="phase-span" data-ms={s.ms}>
            <i style={{ background: SHADES[i % SHADES.length] }} />
            until {s.to} <strong>{ms(s.ms)}</strong>
          </li>
        ))}
        {gap && (
          <li data-testid="phase-gap">
            <i style={{ background: 'rgba(220,38,38,0.55)' }} />
            client-observed gap <strong>{ms(m.probe_gap_ms)}</strong>
          </li>
        )}
      </ol>
    </figure>
  )
}
