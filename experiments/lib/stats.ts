import { uniformInt } from "pure-rand/distribution/uniformInt"
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus"
/** Small summary statistics for benchmark samples (medians of many runs, percentiles). */
export const quantile = (sorted: ArrayLike<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export const summarizeSamples = (samples: ReadonlyArray<number>) => {
  const s = Float64Array.from(samples).sort()
  return { n: s.length, median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9), min: s[0] ?? Number.NaN }
}

/** Time fn() `runs` times after `warmup` calls; microseconds per call. */
export const timeMicros = (fn: (k: number) => void, runs: number, warmup = Math.min(20, runs)): ReturnType<typeof summarizeSamples> => {
  for (let k = 0; k < warmup; k++) fn(k)
  const out: Array<number> = []
  for (let k = 0; k < runs; k++) {
    const t0 = process.hrtime.bigint()
    fn(k)
    out.push(Number(process.hrtime.bigint() - t0) / 1e3)
  }
  return summarizeSamples(out)
}

/**
 * Mean of paired differences with a 95% percentile-bootstrap interval (resampling the pairs, seeded).
 * Hand-written: a dozen lines, and no maintained npm package does it without pulling a statistics suite.
 * With one pair the interval is the point itself (there is nothing to resample).
 */
export const pairedBootstrap = (diffs: ReadonlyArray<number>, o: { readonly resamples?: number; readonly seed?: number } = {}): { mean: number; lo: number; hi: number; n: number } => {
  const n = diffs.length
  const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(1, n)
  if (n <= 1) return { mean, lo: mean, hi: mean, n }
  const rng = xoroshiro128plus(o.seed ?? 1)
  const B = o.resamples ?? 10_000
  const means = new Float64Array(B)
  for (let b = 0; b < B; b++) {
    let s = 0
    for (let i = 0; i < n; i++) s += diffs[uniformInt(rng, 0, n - 1)]!
    means[b] = s / n
  }
  means.sort()
  return { mean, lo: quantile(means, 0.025), hi: quantile(means, 0.975), n }
}
