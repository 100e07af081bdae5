/**
 * The bucket a time falls in when [t0, t0 + span] is cut into `buckets` equal parts, each part
 * holding its right edge (the first point opens bucket 0). src/main/store/run-detail.ts computes the
 * same expression in SQL, operation for operation, so both thin a series identically.
 */
export function bucketOf(t: number, t0: number, span: number, buckets: number): number {
  const b = Math.ceil(((t - t0) * buckets) / span) - 1
  return b < 0 ? 0 : b > buckets - 1 ? buckets - 1 : b
}

/**
 * Fewer points that draw the same picture: per x bucket, the first, the minimum, the maximum and
 * the last point, in time order — spikes and gaps survive (unlike averaging or every-nth). A screen
 * shows ~2 000 columns; 120 000 probe replies become at most 4 per column.
 */
export function decimate(points: [number, number][], buckets = 2000): [number, number][] {
  if (points.length <= buckets * 4) return points
  const t0 = points[0][0]
  const span = points[points.length - 1][0] - t0 || 1
  const out: [number, number][] = []
  let i = 0
  while (i < points.length) {
    const b = bucketOf(points[i][0], t0, span, buckets)
    const first = i
    let lo = i
    let hi = i
    while (i < points.length && bucketOf(points[i][0], t0, span, buckets) === b) {
      if (points[i][1] < points[lo][1]) lo = i
      if (points[i][1] > points[hi][1]) hi = i
      i++
    }
    for (const k of [...new Set([first, lo, hi, i - 1])].sort((a, c) => a - c)) out.push(points[k])
  }
  return out
}
