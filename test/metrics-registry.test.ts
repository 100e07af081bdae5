import { describe, expect, it } from 'vitest'
import type { RunDetail } from '../src/shared/contract/migration'
import { METRICS, roleSeries, SERIES } from '../src/shared/metrics'
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
})
