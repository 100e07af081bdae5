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
  for (let b = 0; b < buckets && i < points.length; b++) {
    const end = t0 + (span * (b + 1)) / buckets
    const first = i
    let lo = i
    let hi = i
    while (i < points.length && (points[i][0] <= end || b === buckets - 1)) {
      if (points[i][1] < points[lo][1]) lo = i
      if (points[i][1] > points[hi][1]) hi = i
      i++
    }
    if (i === first) continue
    for (const k of [...new Set([first, lo, hi, i - 1])].sort((a, c) => a - c)) out.push(points[k])
  }
  return out
}
