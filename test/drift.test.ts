import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeRunConfig, runInProcess } from "../src/actors/index.js"
import { writeTrace } from "./support/trace-file.js"

// `ours` never migrates: a reader looks around the centre the block was written around, wherever that
// satellite has flown since. Property: a conversation that comes back after its satellites have flown
// far (up to half an orbit: starlink-shell1's period is 95 min) finds every block it wrote.
const traceOf = (gaps: ReadonlyArray<number>, blocks: number) =>
  writeTrace(gaps.flatMap((gap, i) => {
    const ids = Array.from({ length: blocks }, (_, k) => i * 1000 + k)
    // The same prefix and one new block, `gap` seconds later.
    return [{ timestamp: i * 1000, hash_ids: ids }, { timestamp: (i + gap) * 1000, hash_ids: [...ids, i * 1000 + blocks] }]
  }))

describe("ours after drift (fast-check)", () => {
  it("a conversation back after its satellites flew up to half an orbit away finds every block it wrote", async () => {
    await fc.assert(fc.asyncProperty(
      fc.nat(1000), fc.array(fc.integer({ min: 60, max: 2_870 }), { minLength: 4, maxLength: 4 }),
      async (seed, gaps) => {
        const blocks = 4
        const r = await runInProcess(makeRunConfig({
          preset: "starlink-shell1", seed, simSeconds: Math.max(...gaps) + 60, workload: "replay", users: 0,
          // Beacons play no part in the replay; one a minute keeps the run short.
          beaconIntervalSeconds: 60, capacityBytesPerSatellite: 2 ** 34,
          replay: { ...makeRunConfig().replay, tracePath: traceOf(gaps, blocks), requests: 2 * gaps.length, strategy: "ours" }
        }), 1)
        const c = r.counters
        expect(c.requests).toBe(2 * gaps.length)
        expect(c.migrationBytes ?? 0).toBe(0)
        // Every return visit served its whole written prefix; a visit with no satellite overhead (a city
        // beyond the shell's 53 deg) can neither write nor ask, and takes one conversation out at most.
        const uncovered = c.uncovered ?? 0
        expect((c.hitBlocks ?? 0) % blocks).toBe(0)
        expect(c.hitBlocks ?? 0).toBeGreaterThanOrEqual(blocks * (gaps.length - uncovered))
        expect(uncovered).toBeLessThan(gaps.length)
      }
    ), { numRuns: 4 })
  }, 120_000)
})
