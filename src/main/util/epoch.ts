/**
 * Epoch milliseconds at a timeline's zero, to a few microseconds. Date.now() counts whole ms, so a
 * plain `Date.now() - clock()` is up to 1 ms off — as much as a short switchover's parts. Waiting for
 * Date.now() to tick (under 1 ms) pins the fraction.
 */
export function epochAtZero(clock: () => number): number {
  const start = Date.now()
  for (;;) {
    const now = Date.now()
    const c = clock()
    if (now !== start) return now - c
  }
}
