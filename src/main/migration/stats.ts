import type { GroupMetric } from '../../shared/contract/history'
/** Descriptive statistics for repeated runs: small n, so confidence intervals use Student's t. */

// Two-sided 95 % quantiles t(0.975, df) for df = 1..30.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042]

export function t975(df: number): number {
  if (df < 1) return NaN
  if (df <= 30) return T975[Math.floor(df) - 1]
  // Cornish–Fisher expansion around the normal quantile; within 0.001 of tables above df 30.
  const z = 1.959964
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
}

export const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN)

/** Sample standard deviation (n − 1); 0 for a single value. */
export function sd(xs: number[]): number {
  if (xs.length < 2) return xs.length ? 0 : NaN
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

/** Half-width of the 95 % CI of the mean; NaN below two values (no spread to judge). */
export const ci95 = (xs: number[]): number => (xs.length < 2 ? NaN : (t975(xs.length - 1) * sd(xs)) / Math.sqrt(xs.length))

/** Change of `value` against `baseline` in %; NaN when the baseline is 0. */
export const changePct = (value: number, baseline: number): number => (baseline === 0 ? NaN : ((value - baseline) / Math.abs(baseline)) * 100)

export interface Summary {
  n: number
  mean: number
  sd: number
  ci95: number
}

export const summarize = (xs: number[]): Summary => ({ n: xs.length, mean: mean(xs), sd: sd(xs), ci95: ci95(xs) })

/** Welch–Satterthwaite degrees of freedom for two variance terms v = s²/n with n − 1 df each. */
export function welchDf(terms: { v: number; n: number }[]): number {
  const num = terms.reduce((a, t) => a + t.v, 0) ** 2
  const den = terms.reduce((a, t) => a + (t.n > 1 ? t.v ** 2 / (t.n - 1) : Infinity), 0)
  return den === 0 ? Infinity : num / den
}

/**
 * % change of `a`'s mean against the baseline `b`'s, with its own 95 % interval: Welch's unequal
 * variances, the ratio's standard error by the delta method (both means uncertain), Student's t at
 * the Welch–Satterthwaite df. NaN interval below two runs per group; NaN altogether when b's mean is 0.
 */
export function changeCi(a: Summary, b: Summary): Change {
  const pct = changePct(a.mean, b.mean)
  if (b.mean === 0 || a.n < 2 || b.n < 2) return { pct, lo: NaN, hi: NaN, df: NaN, distinguishable: false }
  const r = a.mean / b.mean
  const va = a.sd ** 2 / a.n / b.mean ** 2
  const vb = (r ** 2 * b.sd ** 2) / b.n / b.mean ** 2
  const se = Math.sqrt(va + vb)
  const df = welchDf([
    { v: va, n: a.n },
    { v: vb, n: b.n },
  ])
  const t = Number.isFinite(df) ? t975(df) : 1.959964
  const half = (Number.isNaN(t) ? NaN : t * se) * 100 * Math.sign(b.mean)
  const lo = pct - Math.abs(half)
  const hi = pct + Math.abs(half)
  const distinguishable = lo > 0 || hi < 0
  return { pct, lo, hi, df, distinguishable, ...(distinguishable ? {} : { neededN: repetitionsNeeded(pct, se * Math.sqrt((a.n + b.n) / 2)) }) }
}

/** A % change with its 95 % interval, as the contract carries it. */
export type Change = NonNullable<GroupMetric['change']>

/**
 * Runs per group for a 95 % interval of width below |pct|, with the standard error of one run per
 * group `se1` (it shrinks as 1/√n); the smallest n ≥ 2 up to 10 000.
 */
export function repetitionsNeeded(pct: number, se1: number): number | undefined {
  if (!Number.isFinite(pct) || !Number.isFinite(se1) || pct === 0) return undefined
  for (let n = 2; n <= 10_000; n++) if (t975(2 * n - 2) * (se1 / Math.sqrt(n)) * 100 < Math.abs(pct)) return n
  return undefined
}

export interface FiveNumbers {
  min: number
  q1: number
  median: number
  q3: number
  max: number
}

/** Quantile by linear interpolation between order statistics (R type 7, NumPy's default). */
export function quantile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo])
}

/** Min, quartiles and max: what a box plot draws. */
export function fiveNumbers(xs: number[]): FiveNumbers {
  const s = [...xs].sort((a, b) => a - b)
  return { min: s[0] ?? NaN, q1: quantile(s, 0.25), median: quantile(s, 0.5), q3: quantile(s, 0.75), max: s[s.length - 1] ?? NaN }
}
