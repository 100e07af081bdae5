import { useMemo } from 'react'
import type { RunDetail } from '../../../shared/contract/migration'
import { DATA_SENT_KEYS, GAP_PARTS, metricDef, PHASE_EVENT, roleKey, roleSeries, seriesDef, type SeriesRole } from '../../../shared/metrics'
import { TimeChart, type Band, type Line, type Marker } from '../charts/TimeChart'
import { ErrorBox } from '../ErrorBox'
import { GAP_COLORS, GapBreakdown } from './GapBreakdown'
import { PhaseTimeline } from './PhaseTimeline'
import { DOWNTIMES, METRIC_LABELS, mib, ms, summaryLines } from './format'

const MiB = (points: [number, number][]) => points.map(([t, v]) => [t, v / 1048576] as [number, number])
// Drawn on the timeline and bandwidth charts (or read by the log); every other stored series gets a chart of its own.
// The tap captures are drawn as the gap's parts and marks, not as charts of their own.
const WIRE_SERIES = ['wire.source', 'wire.destination']
const DRAWN_ROLES: SeriesRole[] = ['sent', 'remaining', 'dirty_rate', 'bandwidth', 'ram', 'pass']
const label = (run: RunDetail, role: SeriesRole, unit: string) => `${seriesDef(roleKey(run.samples, role) ?? '')?.label ?? role} (${unit})`

/** Why the run has no such figure, as its driver or the runner said ('unmeasured' events). */
const unmeasuredOf = (run: RunDetail): Record<string, string> => Object.assign({}, ...run.events.filter((e) => e.kind === 'unmeasured').map((e) => e.data)) as Record<string, string>

/** One run: the log lines, the three downtimes side by side, the timeline charts, every metric. */
export function RunView({ run }: { run: RunDetail }) {
  const m = run.metrics
  const unmeasured = useMemo(() => unmeasuredOf(run), [run])
  const sentKey = DATA_SENT_KEYS.find((k) => m[k] !== undefined)
  const timeline = useMemo(() => {
    const sent = roleSeries(run.samples, 'sent')
    const lines: Line[] = [
      { label: label(run, 'sent', 'MiB'), points: MiB(sent), color: '#2563eb' },
      { label: label(run, 'remaining', 'MiB'), points: MiB(roleSeries(run.samples, 'remaining')), color: '#f59e0b' },
      { label: label(run, 'dirty_rate', 'pages/s'), points: roleSeries(run.samples, 'dirty_rate'), color: '#dc2626', axis: 'right' },
    ]
    const markers: Marker[] = run.events
      .filter((e) => e.kind === 'downtime.stop' || e.kind === 'downtime.resume' || e.kind === 'MIGRATION_PASS')
      .map((e) => ({
        atMs: e.tMs,
        label: e.kind === 'downtime.stop' ? 'STOP' : e.kind === 'downtime.resume' ? 'RESUME' : `pass ${String(e.data.pass ?? '')}`,
        color: e.kind === 'MIGRATION_PASS' ? '#94a3b8' : '#dc2626',
      }))
    // The migration itself: from the first hypervisor sample to the last, with a margin for the markers.
    const span = sent.length ? sent[sent.length - 1][0] - sent[0][0] : 0
    const focus: [number, number] | undefined = sent.length ? [sent[0][0] - Math.max(50, span * 0.1), sent[sent.length - 1][0] + Math.max(50, span * 0.1)] : undefined
    // A hypervisor that streams no byte counts but announces its phases (xl) is drawn by its phases instead.
    const phased = !sent.length && run.events.some((e) => e.kind === PHASE_EVENT)
    return { lines, markers, focus, phased }
  }, [run])
  const probe = useMemo(() => {
    const lines: Line[] = [{ label: 'probe RTT (ms)', points: run.samples['probe.rtt_ms'] ?? [], color: '#059669', dots: true }]
    // Unanswered probes at their send time, on the axis: what makes a silence the guest's.
    if (run.samples['probe.lost']?.length) lines.push({ label: 'lost probe (sent)', points: run.samples['probe.lost'].map(([t]) => [t, 0] as [number, number]), color: '#dc2626', dots: true })
    const gapBand: Band[] = m.probe_gap_start_ms !== undefined && m.probe_gap_end_ms !== undefined ? [{ fromMs: m.probe_gap_start_ms, toMs: m.probe_gap_end_ms, label: 'gap', color: 'rgba(220,38,38,0.15)' }] : []
    const markers = timeline.markers.filter((x) => x.label === 'STOP' || x.label === 'RESUME')
    // With a packet capture, the gap is drawn as its four parts, and the wire's moments are marked.
    const wire = run.events.find((e) => e.kind === 'wire.switchover')?.data as Record<string, number> | undefined
    if (!wire || m.gap_downtime_ms === undefined) return { lines, bands: gapBand, markers }
    let at = wire.gapStartMs
    const bands: Band[] = GAP_PARTS.filter((k) => m[k] !== undefined).map((k) => ({ fromMs: at, toMs: (at += m[k]), label: metricDef(k)!.short, color: GAP_COLORS[k] }))
    if (wire.announceMs !== undefined) markers.push({ atMs: wire.announceMs, label: 'announce', color: '#d97706' })
    markers.push({ atMs: wire.firstRequestMs, label: 'probe at destination', color: '#7c3aed' })
    const margin = Math.max(20, (wire.gapEndMs - wire.gapStartMs) * 0.5)
    return { lines, bands, markers, focus: [wire.gapStartMs - margin, wire.gapEndMs + margin] as [number, number] }
  }, [run, m, timeline.markers])

  // Bandwidth, and every other series the run stored, each on its own chart.
  const others = useMemo(() => {
    const shown = new Set(['probe.rtt_ms', 'probe.lost', ...WIRE_SERIES, ...DRAWN_ROLES.map((r) => roleKey(run.samples, r))])
    return Object.keys(run.samples)
      .filter((k) => !shown.has(k))
      .sort()
      .map((k) => ({ key: k, lines: [{ label: seriesDef(k)?.label ?? k, points: run.samples[k], color: '#7c3aed' }] as Line[] }))
  }, [run])
  const bandwidth = useMemo<Line[]>(() => [{ label: label(run, 'bandwidth', 'Mbit/s'), points: roleSeries(run.samples, 'bandwidth'), color: '#0891b2' }], [run])

  return (
    <div className="run-view" data-testid="run-view">
      <pre className="run-log" aria-label="Migration log">
        {summaryLines(run).join('\n')}
      </pre>
      {run.error && <ErrorBox error={{ code: run.error.code, message: run.error.message, detail: run.error.detail }} />}
      <div className="downtimes" aria-label="Downtimes">
        {DOWNTIMES.map((d) => (
          <div key={d.key} className="downtime" data-testid={`metric-${d.key}`}>
            <span className="value">{ms(m[d.key])}</span>
            <span className="label">{d.label}</span>
            <span className="muted small">{m[d.key] === undefined && unmeasured[d.key] ? `not measured: ${unmeasured[d.key]}` : d.source}</span>
          </div>
        ))}
        <div className="downtime" data-testid="data-sent" data-source={sentKey}>
          <span className="value">{sentKey ? mib(m[sentKey]) : '—'}</span>
          <span className="label">Data sent</span>
          <span className="muted small">
            {sentKey === 'transferred_bytes'
              ? `hypervisor counter; source NIC: ${m.src_tx_bytes !== undefined ? mib(m.src_tx_bytes) : '—'}`
              : sentKey
                ? `source NIC counter${unmeasured.transferred_bytes ? ` (${unmeasured.transferred_bytes})` : ''}`
                : `not measured${unmeasured.transferred_bytes ? `: ${unmeasured.transferred_bytes}` : ''}`}
          </span>
        </div>
        <div className="downtime">
          <span className="value">{ms(m.total_ms)}</span>
          <span className="label">Total time</span>
          <span className="muted small">{m.passes !== undefined ? `${m.passes} passes` : unmeasured.passes ?? 'passes not measured'}</span>
        </div>
      </div>
      <PhaseTimeline run={run} />
      {!timeline.phased && <TimeChart title="Migration timeline" left="MiB" right="dirty pages/s" lines={timeline.lines} markers={timeline.markers} focus={timeline.focus} />}
      <TimeChart title="What a client saw (UDP probe round trips)" left="RTT ms" {...probe} focus={undefined} />
      <GapBreakdown run={run} />
      {probe.focus && <TimeChart title="The switchover up close (the gap in its parts)" left="RTT ms" {...probe} />}
      {!timeline.phased && <TimeChart title="Migration bandwidth" left="Mbit/s" lines={bandwidth} markers={timeline.markers} focus={timeline.focus} />}
      {others.map((o) => (
        <TimeChart key={o.key} title={o.key} left={o.key.split('.').pop() ?? ''} lines={o.lines} markers={probe.markers} />
      ))}
      <details>
        <summary>All metrics</summary>
        <table className="table compact">
          <tbody>
            {Object.entries(m).map(([k, v]) => (
              <tr key={k}>
                <th>{METRIC_LABELS[k] ?? k}</th>
                <td>{Number.isInteger(v) ? v : v.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  )
}
