import { describe, expect, it } from 'vitest'
import { deriveInterrupted } from '../src/main/migration/recover'

describe('figures of an interrupted run, derived from what it stored', () => {
  it('STOP → RESUME from the nodes’ own clocks and the stored offsets; data sent and passes from the series by role', () => {
    const clocks = { epochAtZero: 1_000_000, sourceOffsetMs: 40, destinationOffsetMs: -25 }
    const run = {
      samples: { 'qemu.transferred_bytes': [[100, 5e6], [200, 9e6]], 'qemu.pass': [[100, 1], [200, 3]], 'probe.rtt_ms': [[0, 1], [10, 1], [400, 2]] } as Record<string, [number, number][]>,
      events: [
        { tMs: 50, kind: 'phase', data: { phase: 'migrate', clocks } },
        { tMs: 250, kind: 'STOP', data: { role: 'source', nodeTimeMs: 1_000_290 } },
        { tMs: 320, kind: 'RESUME', data: { role: 'destination', nodeTimeMs: 1_000_295 } },
      ],
    }
    const { metrics, lastMs } = deriveInterrupted(run)
    // Source clock 40 ms ahead, destination 25 ms behind: 295 + 25 − (290 − 40) = 70 ms.
    expect(metrics.stop_resume_ms).toBe(70)
    expect(metrics.transferred_bytes).toBe(9e6)
    expect(metrics.passes).toBe(3)
    expect(metrics.partial).toBe(1)
    expect(lastMs).toBe(402)
  })

  it('leaves out what the run never measured (no hypervisor series, no STOP): absent, not 0', () => {
    const { metrics } = deriveInterrupted({ samples: { 'probe.rtt_ms': [[0, 1]] }, events: [] })
    expect(metrics).toEqual({ partial: 1 })
  })
})
