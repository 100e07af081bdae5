import { describe, expect, it } from 'vitest'
import { epochAtZero } from '../src/main/util/epoch'

const EPOCH = 1_700_000_000_000.25

/** A timeline and a whole-ms wall clock on one simulated time (each call costs 1 µs); `stallAt`: the thread is preempted for 1.2 ms once that timeline ms is reached. */
function simulated(stallAt?: number) {
  let t = 0.3
  let stalled = stallAt === undefined
  const tick = () => {
    t += 0.001
    if (!stalled && t >= stallAt!) {
      stalled = true
      t += 1.2
    }
  }
  return { clock: () => (tick(), t), wall: () => (tick(), Math.floor(EPOCH + t)) }
}

describe('epochAtZero', () => {
  it('finds the epoch at the timeline zero to a few µs', () => {
    const { clock, wall } = simulated()
    expect(Math.abs(epochAtZero(clock, wall) - EPOCH)).toBeLessThan(0.005)
  })

  it('is not thrown off by a preemption just before the ms ticks: a narrower bracket wins', () => {
    // The wall clock ticks at timeline 0.75; the thread stalls 1.2 ms at 0.7495, inside the first bracket.
    const once = simulated(0.7495)
    expect(Math.abs(epochAtZero(once.clock, once.wall, 1) - EPOCH)).toBeGreaterThan(0.1)
    const { clock, wall } = simulated(0.7495)
    expect(Math.abs(epochAtZero(clock, wall) - EPOCH)).toBeLessThan(0.005)
  })
})
