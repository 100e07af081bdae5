import type { RunDetail } from '../../../shared/contract/migration'
import { DOWNTIME_KEYS, metricDef, METRICS, type Unit } from '../../../shared/metrics'

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
  const transferred = run.samples['qemu.transferred_bytes'] ?? []
  const total = run.samples['qemu.total_bytes'] ?? []
  const passes = run.samples['qemu.pass'] ?? []
  const mbps = run.samples['qemu.mbps'] ?? []
  // One line per pass, like Proxmox's per-second lines but keyed to what matters in pre-copy.
  let lastPass = -1
  for (let i = 0; i < transferred.length; i++) {
    const pass = passes[i]?.[1] ?? 0
    if (pass !== lastPass) {
      lastPass = pass
      lines.push(`  ${ms(transferred[i][0])}: pass ${pass}, ${mib(transferred[i][1])} of ${mib(total[i]?.[1] ?? 0)} sent (${Math.round((mbps[i]?.[1] ?? 0) / 8)} MB/s)`)
    }
  }
  if (run.status === 'succeeded') {
    lines.push(`migration finished successfully: ${mib(m.transferred_bytes ?? 0)} sent in ${ms(m.total_ms)}, ${m.passes ?? '?'} passes`)
    lines.push(`downtime ${ms(m.qemu_downtime_ms)} (hypervisor) · STOP→RESUME ${ms(m.stop_resume_ms)} · client gap ${ms(m.probe_gap_ms)}`)
  } else if (run.error) {
    lines.push(`migration ${run.status}: ${run.error.message}`)
  } else lines.push(`migration ${run.status}`)
  return lines
}
