import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDb } from '../src/main/store/db'
import { runDetail, runDetailThinned } from '../src/main/store/run-detail'
import { RunWriter } from '../src/main/store/run-writer'
import { decimate } from '../src/shared/decimate'
import { rng } from './fixtures/synthetic-runs'
import { tempDir } from './helpers'

describe('run detail thinned in SQL', () => {
  const db = openDb(join(tempDir(), 'miglab.db'))
  const writer = new RunWriter(db)
  const id = writer.create({ labId: null, jobId: null, vm: 'g', strategy: 'precopy', workload: 'idle', params: {}, environment: {} })
  const rand = rng(7)
  // Irregular times (a probe's replies), one spike and one dip, one short series.
  let t = 0
  for (let i = 0; i < 50_000; i++) {
    t += 0.5 + rand() * 2
    writer.sample(id, t, 'probe.rtt_ms', i === 31_337 ? 250 : i === 40_001 ? -1 : 0.2 + rand() * 0.3)
    if (i % 1000 === 0) writer.sample(id, t, 'qemu.remaining_bytes', 1e9 - i * 1e4)
  }
  writer.finish(id, 'succeeded', {})
  writer.flush()

  it('thins a long series to what decimating every sample gives (first, lowest, highest, last per bucket), spikes kept', () => {
    const full = runDetail(db, id)!
    const thin = runDetailThinned(db, id, 500)!
    const expected = decimate(full.samples['probe.rtt_ms'], 500)
    expect(expected.length).toBeLessThan(2001)
    expect(thin.samples['probe.rtt_ms']).toEqual(expected)
    expect(thin.samples['probe.rtt_ms']).toContainEqual(full.samples['probe.rtt_ms'][31_337])
    expect(thin.samples['probe.rtt_ms']).toContainEqual(full.samples['probe.rtt_ms'][40_001])
    expect(thin.thinned).toEqual({ 'probe.rtt_ms': 50_000 })
    // A short series comes whole; everything else of the run is the same.
    expect(thin.samples['qemu.remaining_bytes']).toEqual(full.samples['qemu.remaining_bytes'])
    const { samples: _a, thinned: _t, ...rest } = thin
    const { samples: _b, ...fullRest } = full
    expect(rest).toEqual(fullRest)
  })

  it('keeps every sample when the series fits', () => {
    const thin = runDetailThinned(db, id, 20_000)!
    expect(thin.samples['probe.rtt_ms']).toHaveLength(50_000)
    expect(thin.thinned).toEqual({})
  })

  it('answers a finished run again from what it thinned, and a running run always from the samples', () => {
    const first = runDetailThinned(db, id, 500)!
    const again = runDetailThinned(db, id, 500)!
    expect(again).toEqual(first)
    expect(again.samples).not.toBe(first.samples)
    const live = writer.create({ labId: null, jobId: null, vm: 'g', strategy: 'precopy', workload: 'idle', params: {}, environment: {} })
    for (let i = 0; i < 3000; i++) writer.sample(live, i, 'probe.rtt_ms', 1)
    writer.flush()
    expect(runDetailThinned(db, live, 500)!.thinned).toEqual({ 'probe.rtt_ms': 3000 })
    writer.sample(live, 3000, 'probe.rtt_ms', 99)
    writer.flush()
    const grown = runDetailThinned(db, live, 500)!
    expect(grown.thinned).toEqual({ 'probe.rtt_ms': 3001 })
    expect(grown.samples['probe.rtt_ms'].at(-1)).toEqual([3000, 99])
  })
})
