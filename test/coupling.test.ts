import { describe, expect, it } from "vitest"
import { makeRunConfig, runInProcess } from "../src/actors/index.js"
import { makeWorld } from "../src/actors/world.js"
import { crossingRecorder, fewestWindows } from "../experiments/lib/coupling.js"

describe("fewest windows of a barrier-synchronous run (experiments/lib/coupling.ts)", () => {
  it("with nothing crossing, one window per epoch, the last one cut at the end", () => {
    expect(fewestWindows([], 1, 3)).toBe(3)
    expect(fewestWindows([], 1, 2.5)).toBe(3)
    expect(fewestWindows([], 0.1, 1)).toBe(10)
  })

  it("ends a window at the earliest arrival of what was sent within it", () => {
    // [0, 0.105) then [0.105, 1).
    expect(fewestWindows([{ time: 0.1, arrival: 0.105 }], 1, 1)).toBe(2)
    // The hop at 0.2 is inside [0, 0.3) and arrives first: [0, 0.25), [0.25, 1).
    expect(fewestWindows([{ time: 0.1, arrival: 0.3 }, { time: 0.2, arrival: 0.25 }], 1, 1)).toBe(2)
    // Sent after the first window's end (0.105): it only ends the second, at 0.5.
    expect(fewestWindows([{ time: 0.2, arrival: 0.5 }, { time: 0.1, arrival: 0.105 }], 1, 1)).toBe(3)
    // Arriving past the epoch: the epoch's end comes first.
    expect(fewestWindows([{ time: 0.9, arrival: 1.2 }], 1, 2)).toBe(2)
  })

  it("refuses a hop that arrives before it is taken", () => {
    expect(() => fewestWindows([{ time: 0.5, arrival: 0.5 }], 1, 1)).toThrow(/arrives at 0.5 s/)
  })

  it("is never more than the engine took on the same run, and less on starlink-shell1", async () => {
    for (const preset of ["paper-19x5", "starlink-shell1"] as const) {
      const config = makeRunConfig({ preset, simSeconds: 5, users: 32, requestRatePerUser: 4 })
      const recorder = crossingRecorder(makeWorld(config).ownership(2))
      const report = await runInProcess(config, 2, { onHop: recorder.onHop })
      expect(recorder.crossings.length).toBeGreaterThan(0)
      const fewest = fewestWindows(recorder.crossings, config.epochSeconds, config.simSeconds)
      // Fewer would mean the engine let a window run past an arrival it had not been given.
      expect(report.windows).toBeGreaterThanOrEqual(fewest)
      if (preset === "starlink-shell1") expect(fewest).toBeLessThan(report.windows)
    }
  })
})
