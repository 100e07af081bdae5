import type { RunDetail } from '../../../shared/contract/migration'
import { DOWNTIME_KEYS, metricDef, METRICS, PHASE_EVENT, roleSeries, type Unit } from '../../../shared/metrics'

export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`
export const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v * 10) / 10} ms`)

/** The three downtimes are different truths; every view names them the same way (src/shared/metrics.ts). */
export const DOWNTIMES = DOWNTIME_KEYS.map((k) => metricDef(k)!)

const UNIT_TEXT: Partial<Record<Unit, string>> = { ms: 'ms', bytes: 'bytes' }

/** "Label (unit)" for every metric of the registry. */
export const METRIC_LABELS: Record<string, string> = Object.fromEntries(METRICS.map((m) => [m.key, UNIT_TEXT[m.unit] ? `${m.label} (${UNIT_TEXT[m.unit]})` : m.label]))

/** Proxmox-style log: a line per phase with speed, then the downtimes. */
export function summaryLines(run: RunDetail): string[] {
  const m = run.metrics
  const p = run.params as { from?: string; to?: string }
  const lines = [`${new Date(run.startedAt).toLocaleString()} migrate VM ${run.vm} ${p.from ?? '?'} → ${p.to ?? '?'} (strategy ${run.strategy}, workload ${run.workload})`]
  const transferred = roleSeries(run.samples, 'sent')
  const total = roleSeries(run.samples, 'ram')
  const passes = roleSeries(run.samples, 'pass')
  const mbps = roleSeries(run.samples, 'bandwidth')
  // One line per pass, like Proxmox's per-second lines but keyed to what matters in pre-copy.
  let lastPass = -1
  for (let i = 0; i < transferred.length; i++) {
    const pass = passes[i]?.[1] ?? 0
    if (pass !== lastPass) {
      lastPass = pass
      const of = total[i] ? ` of ${mib(total[i][1])}` : ''
      const speed = mbps[i] ? ` (${Math.round(mbps[i][1] / 8)} MB/s)` : ''
      lines.push(`  ${ms(transferred[i][0])}: pass ${pass}, ${mib(transferred[i][1])}${of} sent${speed}`)
    }
  }
  // The hypervisor's phases as it announced them (xl migrate's lines), stamped as they arrived.
  for (const e of run.events.filter((x) => x.kind === PHASE_EVENT)) lines.push(`  ${ms(e.tMs)}: ${String(e.data.label ?? e.data.phase)}`)
  if (run.status === 'succeeded') {
    // A figure the driver does not measure is named as such, never printed as 0.
    const sent =
      m.transferred_bytes !== undefined
        ? `${mib(m.transferred_bytes)} sent`
        : m.src_tx_bytes !== undefined
          ? `${mib(m.src_tx_bytes)} sent by the source NIC (the hypervisor reports no byte count)`
          : 'data sent not reported by the hypervisor'
    const passCount = m.passes !== undefined ? `, ${m.passes} passes` : ''
    lines.push(`migration finished successfully: ${sent} in ${ms(m.total_ms)}${passCount}`)
    lines.push(DOWNTIMES.map((d) => `${d.label} ${ms(m[d.key])}`).join(' · '))
  } else if (run.error) {
    lines.push(`migration ${run.status}: ${run.error.message}`)
  } else lines.push(`migration ${run.status}`)
  return lines
}
