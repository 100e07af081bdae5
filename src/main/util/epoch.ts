/**
 * Epoch milliseconds at a timeline's zero, to a few microseconds. Date.now() counts whole ms, so a
 * plain `Date.now() - clock()` is up to 1 ms off — as much as a short switchover's parts. Waiting for
 * Date.now() to tick pins the fraction: the tick lies after a timeline reading taken just before a
 * Date.now() that still showed the old ms, and before one taken just after a Date.now() that shows
 * the new. On a loaded machine the thread can be preempted inside that bracket (a CI run was 1 ms
 * off so), so it is taken several times and the narrowest bracket wins.
 */
export function epochAtZero(clock: () => number, wall: () => number = Date.now, tries = 8): number {
  let best: { epochMs: number; widthMs: number } | undefined
  for (let i = 0; i < tries && !(best && best.widthMs < 0.02); i++) {
    let lower = clock()
    const start = wall()
    for (;;) {
      const before = clock()
      const now = wall()
      if (now !== start) {
        const upper = clock()
        if (!best || upper - lower < best.widthMs) best = { epochMs: now - (lower + upper) / 2, widthMs: upper - lower }
        break
      }
      lower = before
    }
  }
  return best!.epochMs
}
