import { describe, expect, it } from "vitest"
import { measureBytesPerSatellite } from "../src/runtime/memory.js"

describe("bytes per satellite actor", () => {
  it("counts typed arrays' backing stores as well as JS objects, build after build", () => {
    const satellites = 1_000
    // 1,000 bytes a satellite off the JS heap (a typed array's backing store), nothing else.
    const arrays = measureBytesPerSatellite(() => new Float64Array(125 * satellites), satellites)
    expect(arrays).toBeGreaterThanOrEqual(1_000)
    expect(arrays).toBeLessThan(1_050)
    // The same, and an object per satellite on the JS heap (tens of bytes each).
    const both = measureBytesPerSatellite(() => ({ arrays: new Float64Array(125 * satellites), actors: Array.from({ length: satellites }, (_, i) => ({ i, x: i / 2 })) }), satellites)
    expect(both).toBeGreaterThan(arrays + 16)
    expect(both).toBeLessThan(arrays + 200)
  })

  it("reads the median batch, whatever one batch adds either way, and does not count what a build leaves dead", () => {
    const satellites = 1_000
    // 4 builds a batch (about 4,000 satellites): one not measured, then five measured, one adding five
    // times as much as the rest and one a quarter as much. Builds of some batches leave 3,000 bytes a
    // satellite of typed arrays dead, whose backing stores only the collection after the one that found
    // them frees: read after one collection, a batch would count its own dead and not its predecessor's.
    const kiloBytesPerSatellite = [1, 1, 5, 1, 0.25, 1]
    const deadKiloBytesPerSatellite = [3, 3, 0, 3, 0, 3]
    let builds = 0
    const perSatellite = measureBytesPerSatellite(() => {
      const batch = Math.floor(builds++ / 4)
      const dead = new Float64Array(125 * satellites * deadKiloBytesPerSatellite[batch]!)
      dead.fill(batch)
      return new Float64Array(125 * satellites * kiloBytesPerSatellite[batch]!)
    }, satellites)
    expect(builds).toBe(24)
    expect(perSatellite).toBeGreaterThanOrEqual(1_000)
    expect(perSatellite).toBeLessThan(1_050)
  })
})
