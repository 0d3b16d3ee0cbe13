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
})
