import { describe, expect, it } from "vitest"
import { pairedBootstrap, quantile } from "../experiments/lib/stats.js"

describe("benchmark statistics", () => {
  it("quantiles interpolate between the sorted samples", () => {
    expect(quantile([0, 10], 0.25)).toBe(2.5)
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3)
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([7], 0.9)).toBe(7)
    expect(quantile([], 0.5)).toBeNaN()
  })

  it("the paired bootstrap's 95% interval: the mean inside it, about 1.96 standard errors each side, every pair drawn, the same for a seed", () => {
    // 200 differences spread evenly (a deterministic sample): sd = 10 * sqrt(1/3), standard error sd / sqrt(200).
    const diffs = Array.from({ length: 200 }, (_, i) => 5 + 10 * (2 * ((i * 0.618034) % 1) - 1))
    const n = diffs.length
    const mean = diffs.reduce((a, b) => a + b, 0) / n
    const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / n)
    const r = pairedBootstrap(diffs, { seed: 3 })
    expect(r.n).toBe(200)
    expect(r.mean).toBeCloseTo(mean, 12)
    expect(r.lo).toBeLessThan(mean)
    expect(r.hi).toBeGreaterThan(mean)
    const halfWidth = 1.96 * sd / Math.sqrt(n)
    expect((r.hi - r.lo) / 2).toBeGreaterThan(0.94 * halfWidth)
    expect((r.hi - r.lo) / 2).toBeLessThan(1.06 * halfWidth)
    expect(pairedBootstrap(diffs, { seed: 3 })).toEqual(r)
    // One large difference among zeros: the last pair too must be drawn, or every resample's mean is 0.
    const rare = pairedBootstrap([0, 0, 0, 0, 0, 0, 0, 0, 0, 100], { seed: 1 })
    expect(rare.mean).toBe(10)
    expect(rare.hi).toBeGreaterThan(10)
    expect(rare.lo).toBe(0)
    // Nothing to resample: the point itself.
    expect(pairedBootstrap([4])).toEqual({ mean: 4, lo: 4, hi: 4, n: 1 })
  })
})
