import { describe, expect, it } from "vitest"
import { makeRunConfig, runInProcess } from "../src/actors/index.js"
import { type CentredStrategy, hop, strategyNamed } from "../src/cache/strategies.js"
import { oracleHitRate, parseTrace } from "../src/cache/trace.js"
import { readFileSync } from "node:fs"
import { writeTrace } from "./support/trace-file.js"

// A strategy defined here, outside src/cache, handed to a run: the centre and the satellites ahead of
// it in its own orbital plane (one plane, no box). Counting its calls shows the actors really place by it.
let calls = 0
const inPlane = (handover: "follow" | "anchor"): CentredStrategy => ({
  name: `in_plane_${handover}`,
  summary: "the centre and the next S - 1 satellites ahead of it in its plane",
  kind: "centred",
  handover,
  around: (geo, centre, servers) => {
    calls++
    const out = [centre]
    while (out.length < servers) out.push(geo.graph.neighbours[4 * out[out.length - 1]! + 1]!)
    return out
  }
})

/** A conversation-like trace: shared first blocks, then continuations; a request every 0.5 s. */
const tracePath = () => {
  const path = writeTrace(Array.from({ length: 40 }, (_, i) => ({ timestamp: i * 500, input_length: 2048, output_length: 10, hash_ids: [i % 3, 100 + (i % 7), 200 + (i % 5)] })))
  return { path, oracle: oracleHitRate(parseTrace(readFileSync(path, "utf8"), path).requests).hitRate }
}

describe("placement strategies as plug-ins", () => {
  const { path, oracle } = tracePath()
  const config = (strategy: string) => makeRunConfig({
    preset: "starlink-shell1", simSeconds: 80, workload: "replay", users: 0, capacityBytesPerSatellite: 2 ** 34,
    replay: { ...makeRunConfig().replay, tracePath: path, requests: 40, strategy }
  })

  it("a strategy defined in a test file replays a trace through the actors, following or anchored as it declares", async () => {
    const follow = inPlane("follow")
    const anchor = inPlane("anchor")
    calls = 0
    const a = await runInProcess(config(follow.name), 2, {}, { strategies: [follow] })
    expect(calls).toBeGreaterThan(0)
    expect(a.counters.requests).toBe(40)
    expect(a.counters.hitBlocks).toBeGreaterThan(0)
    expect(a.counters.hitBlocks! / a.counters.blocks!).toBeLessThanOrEqual(oracle + 1e-12)
    // Over 80 s the writers' serving satellites change: a following strategy migrates, an anchored one never does.
    expect(a.counters.migrationBytes).toBeGreaterThan(0)
    const b = await runInProcess(config(anchor.name), 2, {}, { strategies: [anchor] })
    expect(b.counters.hitBlocks).toBeGreaterThan(0)
    expect(b.counters.migrationBytes ?? 0).toBe(0)
    // Same run on one shard: the plug-in is as deterministic as the built-ins.
    expect((await runInProcess(config(follow.name), 1, {}, { strategies: [follow] })).traceHash).toBe(a.traceHash)
  }, 60_000)

  it("a plug-in of a built-in's name stands in for it; other names still find the built-ins", () => {
    const mine = { ...inPlane("follow"), name: "rotation" }
    expect(strategyNamed("rotation", [mine])).toBe(mine)
    expect(strategyNamed("hop", [mine])).toBe(hop)
  })

  it("an unknown strategy name is a clear error naming the field and the known ones", async () => {
    await expect(runInProcess(config("nope"), 1)).rejects.toThrow(/config\.replay\.strategy: unknown placement strategy "nope" \(known: rotation, hop, hop_rotation, baseline, ours\)/)
  })
})
