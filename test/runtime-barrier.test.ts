import { Worker } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { Barrier, BARRIER_INTS } from "../src/runtime/barrier.js"

describe("the shards' barrier", () => {
  it("spins long while its partner keeps up, backs off to short spins when long ones keep ending in sleep, and tries long again", async () => {
    // ~14 ms of spinning at most: a partner 0.2 ms behind is always within it; one 50 ms behind never is.
    // (A party that arrives last does not wait: the partner is kept behind so that this one waits.)
    const spin = 2_000_000
    const delays = [...Array(20).fill(0.2), ...Array(5).fill(50), ...Array(300).fill(0.2)]
    const control = new SharedArrayBuffer(4 * BARRIER_INTS)
    const barrier = new Barrier(new Int32Array(control), 2, spin)
    const partner = new Worker(new URL("./support/barrier-partner.mjs", import.meta.url), { workerData: { control, spin, delays } })
    const ended = new Promise((resolve, reject) => partner.on("exit", resolve).on("error", reject))
    expect(barrier.nextSpin).toBe(spin)
    const backingOff = delays.map(() => {
      barrier.arrive()
      // Backing off: 128 loads, enough to notice a partner already there.
      expect([spin, 128]).toContain(barrier.nextSpin)
      return barrier.nextSpin < spin
    })
    await ended
    expect(backingOff.slice(0, 20)).not.toContain(true)
    // The third long spin in a row that ends in sleep starts the back-off.
    expect(backingOff.slice(20, 25)).toEqual([false, false, true, true, true])
    // Short spins for a while (64 waits), then a long one succeeds again and stays.
    expect(backingOff.slice(25, 40)).toContain(true)
    expect(backingOff.at(-1)).toBe(false)
  }, 30_000)
})
