import { describe, expect, it } from 'vitest'
import type { RunDetail } from '../src/shared/contract/migration'
import { absentReasons, HEADLINE_METRICS, METRICS, PHASE_EVENT, roleSeries, SERIES, type DriverKind } from '../src/shared/metrics'
import { groupRuns, type GroupableRun } from '../src/main/migration/groups'
import { absentWhy } from '../src/renderer/src/runs/Compare'
import { summaryLines } from '../src/renderer/src/runs/format'

const run = (over: Partial<RunDetail>): RunDetail =>
  ({ id: 1, vm: 'vm', strategy: 'precopy', workload: 'idle', status: 'succeeded', startedAt: 0, params: { from: 'a', to: 'b' }, metrics: {}, samples: {}, events: [], ...over }) as unknown as RunDetail

describe('metric and series registry', () => {
  it('declares every key once and each role at most once per driver, so a role names one series', () => {
    expect(new Set(METRICS.map((m) => m.key)).size).toBe(METRICS.length)
    expect(new Set(SERIES.map((s) => s.key)).size).toBe(SERIES.length)
    for (const driver of ['qemu', 'xen'] as const) {
      const roles = SERIES.filter((s) => s.role && s.drivers.includes(driver)).map((s) => s.role)
      expect(new Set(roles).size, driver).toBe(roles.length)
    }
  })

  it("finds a run's series by role, and nothing where its driver measures none", () => {
    const sent: [number, number][] = [[0, 10], [5, 20]]
    expect(roleSeries({ 'qemu.transferred_bytes': sent }, 'sent')).toBe(sent)
    expect(roleSeries({ 'probe.rtt_ms': [[0, 1]] }, 'sent')).toEqual([])
  })

  it('the run log names an unmeasured figure instead of printing 0', () => {
    const noBytes = summaryLines(run({ metrics: { probe_gap_ms: 2500, total_ms: 16000 } }))
    expect(noBytes.join('\n')).toContain('data sent not reported by the hypervisor')
    expect(noBytes.join('\n')).not.toMatch(/\b0\.0 MiB/)
    expect(noBytes.at(-1)).toBe('Hypervisor downtime — · STOP → RESUME — · Client-observed gap 2500 ms')
    const measured = summaryLines(run({ metrics: { transferred_bytes: 3 * 1048576, passes: 4, total_ms: 900 } }))
    expect(measured).toContain('migration finished successfully: 3.0 MiB sent in 900 ms, 4 passes')
  })

  it('every headline figure a driver lacks has a reason, so no chart shows an unexplained hole; a reason never shadows a figure the driver has', () => {
    for (const d of ['qemu', 'xen', 'xl'] as DriverKind[]) {
      const why = absentReasons(d)
      for (const m of HEADLINE_METRICS) expect(m.drivers.includes(d) || typeof why[m.key] === 'string', `${m.key} for ${d}`).toBe(true)
      for (const key of Object.keys(why)) expect(METRICS.find((m) => m.key === key)!.drivers).not.toContain(d)
    }
    expect(absentReasons('xl').qemu_downtime_ms).toMatch(/libxl reports no downtime/)
  })

  it("the log of an xl run lists its phases as announced, and its data sent from the source NIC, named as such", () => {
    const lines = summaryLines(
      run({
        metrics: { src_tx_bytes: 132 * 1048576, total_ms: 45_000, probe_gap_ms: 5000 },
        events: [
          { tMs: 1000, kind: PHASE_EVENT, data: { phase: 'begin', label: 'xl migrate started' } },
          { tMs: 7200, kind: PHASE_EVENT, data: { phase: 'ready', label: 'target ready' } },
        ],
      }),
    )
    expect(lines.slice(1, 3)).toEqual(['  1000 ms: xl migrate started', '  7200 ms: target ready'])
    expect(lines).toContain('migration finished successfully: 132.0 MiB sent by the source NIC (the hypervisor reports no byte count) in 45.0 s')
  })

  it('compare: runs of two drivers group apart by driver, a pooled group lists both, and an absent figure says whose and why', () => {
    const r = (id: number, driver: string, metrics: Record<string, number>): GroupableRun => ({ id, strategy: 'precopy', workload: 'idle', vm: 'guest', driver, status: 'succeeded', params: {}, metrics })
    const runs = [r(1, 'qemu', { probe_gap_ms: 60, qemu_downtime_ms: 7 }), r(2, 'xl', { probe_gap_ms: 5000 }), r(3, 'xl', { probe_gap_ms: 7000 })]
    const byDriver = groupRuns(runs, ['driver', 'strategy'])
    expect(byDriver.groups.map((g) => [g.key, g.drivers, g.metrics.probe_gap_ms.mean])).toEqual([
      ['qemu · precopy', ['qemu'], 60],
      ['xl · precopy', ['xl'], 6000],
    ])
    const xl = byDriver.groups[1]
    expect(xl.metrics.qemu_downtime_ms).toBeUndefined()
    expect(absentWhy('qemu_downtime_ms', xl)).toBe(`xl: ${absentReasons('xl').qemu_downtime_ms}`)
    expect(groupRuns(runs, ['strategy']).groups[0].drivers).toEqual(['qemu', 'xl'])
    expect(absentWhy('gap_warmup_ms', xl)).toBe('none of its runs measured it')
  })
})
