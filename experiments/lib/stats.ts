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
