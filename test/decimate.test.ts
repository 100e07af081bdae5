import { describe, expect, it } from 'vitest'
import { decimate } from '../src/shared/decimate'

describe('chart decimation', () => {
  it('keeps short series as they are', () => {
    const pts: [number, number][] = Array.from({ length: 100 }, (_, i) => [i, i % 7])
    expect(decimate(pts, 50)).toBe(pts)
  })

  it('reduces a long series to at most 4 points per bucket, in time order, keeping every spike and the ends', () => {
    const pts: [number, number][] = Array.from({ length: 120_000 }, (_, i) => [i, 0.3])
    pts[54_321] = [54_321, 250] // the migration's gap as one RTT spike
    pts[77_777] = [77_777, -1]
    const out = decimate(pts, 2000)
    expect(out.length).toBeLessThanOrEqual(8000)
    expect(out.length).toBeGreaterThan(2000)
    expect(out).toContainEqual([54_321, 250])
    expect(out).toContainEqual([77_777, -1])
    expect(out[0]).toEqual(pts[0])
    expect(out[out.length - 1]).toEqual(pts[pts.length - 1])
    for (let i = 1; i < out.length; i++) expect(out[i][0]).toBeGreaterThan(out[i - 1][0])
  })
})
