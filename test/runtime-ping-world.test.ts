/**
 * The engine on a world written by hand (test/support/ping-world.ts): it knows nothing of satellites, so
 * any world runs on it, in-process and on the worker pool alike; and its window bounds hold exactly, in
 * a world whose messages land at the very end of the windows they bound.
 */
import { describe, expect, it } from "vitest"
import { LiveEngine } from "../src/runtime/live.js"
import { LivePool } from "../src/runtime/live-pool.js"
import { runInProcess } from "../src/runtime/local.js"
import { RunFailed, runOnWorkers } from "../src/runtime/pool.js"
import { ACTORS, DELAY, EPOCH, makePingWorld, type PingConfig, TICK } from "./support/ping-world.js"

const module = new URL("./support/ping-world.ts", import.meta.url).href

/** The same world on one shard, two in one thread and two workers: the same run, to the last delivery. */
const runEverywhere = async (config: PingConfig) => {
  const one = await runInProcess(makePingWorld(config), 1)
  const two = await runInProcess(makePingWorld(config), 2)
  const workers = await runOnWorkers({ module, config }, { workers: 2 })
  for (const r of [two, workers]) {
    expect(r.traceHash).toBe(one.traceHash)
    expect(r.deliveredByTag).toEqual(one.deliveredByTag)
    expect(r.timersFired).toBe(one.timersFired)
    expect(r.dropped.invalid).toBe(0)
  }
  return { one, two }
}

describe("a world written by hand", () => {
  const seconds = 2
  const epochs = seconds / EPOCH

  it("the live host on the pool advances on demand, never backwards, to the same run as one shard in this thread", async () => {
    const config: PingConfig = { seconds, mode: "busy" }
    await expect(LivePool.start({ module, config }, { workers: 0 })).rejects.toThrow(/workers must be an integer >= 1, got 0/)
    const pool = await LivePool.start({ module, config }, { workers: 2 })
    try {
      await pool.advanceTo(1)
      await pool.advanceTo(0.5)
      expect(pool.now).toBe(1)
      await pool.advanceTo(seconds)
      const live = await pool.report()
      const one = await runInProcess(makePingWorld(config), 1)
      expect([live.traceHash, live.deliveredByTag, live.timersFired]).toEqual([one.traceHash, one.deliveredByTag, one.timersFired])
    } finally {
      await pool.close()
    }
  }, 60_000)

  it("a shard failing mid-run: the live hosts throw its own error, not the aborts it caused, whichever shard it is, and every later call throws it again", async () => {
    const cause = /ping network failed at 1 s/
    for (const shard of [0, 1]) {
      const config: PingConfig = { seconds, mode: "busy", fail: { shard, at: 1 } }
      const pool = await LivePool.start({ module, config }, { workers: 2 })
      try {
        await pool.advanceTo(0.5)
        const err = await pool.advanceTo(seconds).then(() => undefined, (e: unknown) => e)
        expect(err).toBeInstanceOf(RunFailed)
        expect((err as RunFailed).shard).toBe(shard)
        expect((err as RunFailed).message).toMatch(cause)
        // The shards stopped apart: nothing after the failure may report a run or run on.
        await expect(pool.report()).rejects.toBe(err)
        await expect(pool.advanceTo(seconds)).rejects.toBe(err)
        await expect(pool.request(0, {})).rejects.toBe(err)
      } finally {
        await pool.close()
      }
    }
    const one = new LiveEngine(makePingWorld({ seconds, mode: "busy", fail: { shard: 0, at: 1 } }))
    one.advanceTo(0.5)
    expect(() => one.advanceTo(seconds)).toThrow(cause)
    expect(() => one.report()).toThrow(cause)
    expect(() => one.advanceTo(seconds)).toThrow(cause)
  }, 60_000)

  it("busy: every actor pings across the cut at each epoch's start, and ticks just after its Pings land", async () => {
    const { one, two } = await runEverywhere({ seconds, mode: "busy" })
    // Every actor's Ping of each epoch delivered four times; its timers, a Burst each epoch and the Ticks.
    expect(one.deliveredByTag).toEqual({ Ping: 4 * ACTORS * epochs })
    expect(one.timersFired).toBe(ACTORS * epochs + ACTORS * Math.ceil((seconds - DELAY) / TICK))
    // Bounded by the Pings' arrivals, no window is longer than the lookahead.
    expect(two.windows).toBeGreaterThanOrEqual(seconds / DELAY)
  }, 60_000)

  it("a network that overstates its bounds: the records it lets arrive inside a window are refused and counted, not run out of order unnoticed", async () => {
    const config = { seconds, mode: "busy" as const, overstate: 2 }
    const one = await runInProcess(makePingWorld(config), 1)
    const two = await runInProcess(makePingWorld(config), 2)
    expect(one.dropped.invalid).toBe(0)
    expect(two.dropped.invalid).toBeGreaterThan(0)
    expect(two.traceHash).not.toBe(one.traceHash)
  }, 60_000)

  it("quiet: one Ping bounced across the cut, and one tick an epoch that must wait for its return", async () => {
    const { one } = await runEverywhere({ seconds, mode: "quiet" })
    expect(one.deliveredByTag).toEqual({ Ping: 4 * epochs })
    expect(one.timersFired).toBe(2 * epochs)
  }, 60_000)
})
