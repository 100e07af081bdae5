import { describe, expect, it } from 'vitest'
import { GAP_PARTS } from '../src/shared/metrics'
import { decompose, parseCapture, WIRE_KIND, type WirePoint } from '../src/main/migration/wire'

const MAC = '52:54:00:12:34:56'
// tcpdump -nn -e -tt lines as this machine's tcpdump 4.99 prints them (ARP and UDP checked on a veth pair).
const line = (t: number, src: string, dst: string, rest: string) => `${t.toFixed(6)} ${src} > ${dst}, ${rest}`
const probe = '0a:00:00:00:00:01'
const text = [
  line(1000.0, probe, MAC, 'ethertype IPv4 (0x0800), length 60: 198.18.0.1.40000 > 198.18.0.100.7777: UDP, length 16'),
  line(1000.0004, MAC, probe, 'ethertype IPv4 (0x0800), length 60: 198.18.0.100.7777 > 198.18.0.1.40000: UDP, length 16'),
  line(1000.05, MAC, 'ff:ff:ff:ff:ff:ff', 'ethertype Reverse ARP (0x8035), length 60: Reverse Request who-is 52:54:00:12:34:56 tell 52:54:00:12:34:56, length 46'),
  line(1000.06, MAC, 'ff:ff:ff:ff:ff:ff', 'ethertype ARP (0x0806), length 42: Request who-has 198.18.0.100 tell 198.18.0.100, length 28'),
  // Not the probe's port, not the guest: ignored.
  line(1000.07, probe, MAC, 'ethertype IPv4 (0x0800), length 60: 198.18.0.1.40000 > 198.18.0.100.53: UDP, length 16'),
  line(1000.08, probe, '0a:00:00:00:00:02', 'ethertype IPv4 (0x0800), length 60: 198.18.0.1.40000 > 198.18.0.101.7777: UDP, length 16'),
  'tcpdump: 6 packets captured',
].join('\n')

describe('switchover on the wire', () => {
  it("reads the probe's requests, the guest's replies and its announces from tcpdump's text, on the run timeline", () => {
    // The node's clock is 10 ms ahead; the run started at epoch 999.5 s.
    const points = parseCapture(text, MAC.toUpperCase(), 7777, (ms) => ms - 10 - 999_500)
    expect(points.map(([t, k]) => [Math.round(t * 10) / 10, k])).toEqual([
      [490, WIRE_KIND.request],
      [490.4, WIRE_KIND.reply],
      [540, WIRE_KIND.announce],
      [550, WIRE_KIND.announce],
    ])
  })

  it('splits the gap into five consecutive spans (STOP known) that add up to it exactly', () => {
    const source: WirePoint[] = [[90, 1], [90.2, 2], [99, 1], [99.3, 2], [100, 1], [101, 1]]
    const destination: WirePoint[] = [[95, 3], [160, 3], [170, 1], [171, 1], [190, 1], [190.4, 2], [191, 1], [191.2, 2]]
    const gap = { startMs: 99.5, endMs: 190.9 }
    const r = decompose({ source, destination }, gap, { resumeMs: 150, stopMs: 100 })
    if ('unmeasured' in r) throw new Error(r.unmeasured)
    const want = { gap_source_silent_ms: 0.5, gap_downtime_ms: 50, gap_convergence_ms: 20, gap_warmup_ms: 20.4, gap_return_ms: 0.5, gap_announce_ms: 10 }
    expect(Object.keys(r.metrics).sort()).toEqual(Object.keys(want).sort())
    for (const [k, v] of Object.entries(want)) expect(r.metrics[k], k).toBeCloseTo(v, 9)
    const sum = GAP_PARTS.reduce((a, k) => a + r.metrics[k], 0)
    expect(sum).toBeCloseTo(gap.endMs - gap.startMs, 9)
    expect(r.marks).toMatchObject({ lastSourceReplyMs: 99.3, firstRequestMs: 170, firstReplyMs: 190.4, announceMs: 160, stopMs: 100 })
  })

  it('counts no convergence when probes already reached the destination before RESUME (never a negative span)', () => {
    const r = decompose({ source: [], destination: [[120, 1], [160, 2]] }, { startMs: 100, endMs: 161 }, { resumeMs: 150 })
    if ('unmeasured' in r) throw new Error(r.unmeasured)
    expect(r.metrics.gap_convergence_ms).toBe(0)
    // No STOP reported (Xen): the silence before RESUME is one part, the source's share not split out.
    expect(r.metrics.gap_source_silent_ms).toBeUndefined()
    expect(r.metrics.gap_downtime_ms).toBe(50)
    expect(r.metrics.gap_warmup_ms).toBe(10)
  })

  it('counts no convergence when the guest answered a request it carried over before any new one arrived', () => {
    // Reply at 155 to a request taken in on the source; the first new request reaches the destination at 170.
    const r = decompose({ source: [], destination: [[155, 2], [170, 1], [170.3, 2]] }, { startMs: 100, endMs: 155.2 }, { resumeMs: 150, stopMs: 101 })
    if ('unmeasured' in r) throw new Error(r.unmeasured)
    expect(r.metrics.gap_convergence_ms).toBe(0)
    expect(r.metrics.gap_warmup_ms).toBe(5)
    expect(r.metrics.gap_return_ms).toBeCloseTo(0.2, 9)
  })

  it('ends the downtime at the first reply when it precedes QEMU\'s RESUME stamp (seen by 10 µs): no negative part', () => {
    // A request delivered at 149, answered at 149.99; QEMU stamped RESUME at 150 (after the vCPUs ran).
    const r = decompose({ source: [], destination: [[149, 1], [149.99, 2]] }, { startMs: 140, endMs: 150.05 }, { resumeMs: 150, stopMs: 143 })
    if ('unmeasured' in r) throw new Error(r.unmeasured)
    for (const k of GAP_PARTS) expect(r.metrics[k], k).toBeGreaterThanOrEqual(0)
    expect(r.metrics.gap_downtime_ms).toBeCloseTo(6.99, 9)
    expect(r.metrics.gap_warmup_ms).toBe(0)
    expect(GAP_PARTS.reduce((a, k) => a + r.metrics[k], 0)).toBeCloseTo(10.05, 9)
  })

  it('says why when the destination never saw a probe or never answered', () => {
    expect(decompose({ source: [], destination: [] }, { startMs: 0, endMs: 5 }, { resumeMs: 2 })).toEqual({ unmeasured: "no probe reached the destination's tap during the capture" })
    expect(decompose({ source: [], destination: [[3, 1]] }, { startMs: 0, endMs: 5 }, { resumeMs: 2 })).toEqual({ unmeasured: "the guest sent no reply from the destination's tap during the capture" })
  })
})
