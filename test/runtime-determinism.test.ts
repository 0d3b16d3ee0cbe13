import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { InProcess, runSky, Workers } from "../src/actors/hosts.js"
import { makeRunConfig, runInProcess, runOnWorkers } from "../src/actors/index.js"

// Worker runs pay a few seconds of thread start-up each; keep them to the cases the issue names.
describe("determinism: same config and seed, same trace hash, whatever the worker count", () => {
  it("paper-19x5 with ground traffic: 1, 2 and 4 piscina workers, in-process shards, and a repeat", async () => {
    const config = makeRunConfig({ preset: "paper-19x5", simSeconds: 20, users: 16, requestRatePerUser: 3 })
    const w1 = await runOnWorkers(config, { workers: 1 })
    // Through the Host layers too: swapping where a run runs is one Layer.
    const w2 = await Effect.runPromise(runSky(config).pipe(Effect.provide(Workers({ workers: 2 }))))
    const w4 = await runOnWorkers(config, { workers: 4 })
    const again = await runOnWorkers(config, { workers: 2 })
    const p3 = await Effect.runPromise(runSky(config).pipe(Effect.provide(InProcess(3))))
    expect(w1.events).toBeGreaterThan(5000)
    expect(w1.deliveredByTag.CacheGetReply).toBeGreaterThan(100)
    for (const r of [w2, w4, again, p3]) {
      expect(r.traceHash).toBe(w1.traceHash)
      expect(r.events).toBe(w1.events)
      expect(r.retrieval).toEqual(w1.retrieval)
    }
    // More than one shard really exchanged messages (windows bounded by a lookahead, not whole epochs).
    expect(w4.windows).toBeGreaterThan(w1.windows)
  }, 120_000)

  it("starlink-shell1: 1 vs 2 workers", async () => {
    const config = makeRunConfig({ preset: "starlink-shell1", simSeconds: 3, users: 8 })
    const [a, b] = [await runOnWorkers(config, { workers: 1 }), await runOnWorkers(config, { workers: 2 })]
    expect(b.traceHash).toBe(a.traceHash)
    expect(a.events).toBeGreaterThan(3 * 1584 * 4 * 0.9)
  }, 120_000)

  it("windows bounded by each event's distance to a shard cut: replay and a busy standard workload agree on 1, 2 and 3 shards", async () => {
    const replay = makeRunConfig({ preset: "starlink-shell1", simSeconds: 50, workload: "replay", users: 0, replay: { ...makeRunConfig().replay, requests: 80 } })
    const standard = makeRunConfig({ preset: "starlink-shell1", simSeconds: 8, users: 64, requestRatePerUser: 20 })
    for (const config of [replay, standard]) {
      const one = await runInProcess(config, 1)
      for (const shards of [2, 3]) {
        const r = await runInProcess(config, shards)
        expect(r.traceHash).toBe(one.traceHash)
        expect(r.dropped.invalid).toBe(0)
        // Fewer windows than one global lookahead (about 2 ms: a user served across a cut) would need.
        expect(r.windows).toBeLessThan(config.simSeconds / 0.002)
      }
    }
  }, 120_000)

  // The reference runs whose hashes the docs and issue 13 quote (scale.ts --preset P --sim-seconds S
  // --seed 1 with its defaults: 32 users, 2 requests a second each). A change meant to alter the trace
  // updates these and says why in docs/decisions.md; any other change that moves them is a regression.
  it("the reference runs keep their trace hashes, on one shard and on two", async () => {
    for (const [preset, simSeconds, hash] of [["paper-19x5", 120, "3311d901a4d1275d"], ["starlink-shell1", 600, "834a01139bf4ef82"]] as const) {
      const config = makeRunConfig({ preset, simSeconds, seed: 1, users: 32, requestRatePerUser: 2 })
      for (const shards of [1, 2]) expect([preset, shards, (await runInProcess(config, shards)).traceHash]).toEqual([preset, shards, hash])
    }
  }, 120_000)

  it("a different seed gives a different trace", async () => {
    const a = await runInProcess(makeRunConfig({ simSeconds: 5, seed: 1 }), 1)
    const b = await runInProcess(makeRunConfig({ simSeconds: 5, seed: 2 }), 1)
    expect(b.traceHash).not.toBe(a.traceHash)
  })

  it("real-time pacing changes the wall time, not the results", async () => {
    const config = makeRunConfig({ simSeconds: 1, users: 4 })
    const fast = await runInProcess(config, 2)
    const paced = await runInProcess({ ...config, realtimeFactor: 4 }, 2)
    expect(paced.traceHash).toBe(fast.traceHash)
    // 1 virtual second at 4x real time takes about 0.25 wall seconds.
    expect(paced.wallSeconds).toBeGreaterThan(0.2)
    expect(fast.wallSeconds).toBeLessThan(paced.wallSeconds)
  })
})
