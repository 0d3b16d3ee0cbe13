/**
 * The live view's emulation alone (experiments/live/session.ts), without a server or a page: the arcs it
 * keeps against what the workload counted, a satellite's panel, the occupancy drawn, pausing, and ticks
 * that go on while the model answers a prompt. (test/live.test.ts drives the whole thing through the browser.)
 */
import { describe, expect, it } from "vitest"
import { ArcKind, LiveSession, type LiveOptions } from "../experiments/live/session.js"
import { makeRunConfig } from "../src/actors/config.js"

const session = (o: Partial<LiveOptions>) => new LiveSession({
  preset: "paper-19x5", catalog: makeRunConfig().catalog, seed: 1, workload: "standard", strategy: "hop_rotation",
  trace: "data/traces/mooncake-conversation.jsonl.gz", requests: 200, users: 8, model: "unused: no prompt here", capacityMb: 1024, ...o
}, 10)

/** The kind of every arc from sequence number `from` on (while the ring has not wrapped past it). */
const kindsSince = (s: LiveSession, from: number): Array<number> => {
  expect(s.arcs.seq - from).toBeLessThan(4096)
  const arcs = s.arcs.since(from, Number.POSITIVE_INFINITY)
  return Array.from({ length: arcs.length / 3 }, (_, i) => arcs[3 * i + 2]!)
}

/** How many arcs of each kind there have been so far. */
const arcKinds = (s: LiveSession) => {
  const n = { hit: 0, miss: 0, migration: 0, put: 0 }
  const names = Object.keys(ArcKind) as Array<keyof typeof ArcKind>
  for (const kind of kindsSince(s, 0)) n[names.find((name) => ArcKind[name] === kind)!]++
  return n
}

describe("the live view's emulation", () => {
  it("keeps an arc for every reply, hit or miss, and every put; a satellite's panel counts the hits it served; occupancy is drawn rounded up", async () => {
    const s = session({})
    await s.tick(4)
    expect(s.now).toBeCloseTo(40, 9)
    const { counters } = s.stats()
    const arcs = arcKinds(s)
    expect(counters.getHits).toBeGreaterThan(0)
    expect(counters.getMisses).toBeGreaterThan(0)
    expect([arcs.hit, arcs.miss, arcs.migration]).toEqual([counters.getHits, counters.getMisses, 0])
    expect(arcs.put).toBeGreaterThan(0)
    const panels = Array.from({ length: s.satellites }, (_, i) => s.inspect(i) as { bytes: number; capacityBytes: number; hits: number })
    expect(panels.reduce((n, p) => n + p.hits, 0)).toBe(counters.getHits)
    // A satellite holding anything is drawn non-empty, however little it holds of its capacity.
    const drawn = s.occupancy(new Uint8Array(s.satellites))
    expect(Array.from(drawn)).toEqual(panels.map((p) => Math.ceil((255 * p.bytes) / p.capacityBytes)))
    expect(panels.filter((p) => p.bytes > 0 && p.bytes < p.capacityBytes / 255).length).toBeGreaterThan(0)
    for (const bad of [-1, s.satellites, 1.5]) expect(s.inspect(bad)).toEqual({ type: "error", message: `no satellite ${bad}` })
    expect(s.inspect(s.satellites - 1)).toMatchObject({ type: "satellite", satellite: s.satellites - 1 })
    await s.close()
  })

  it("with a small store, satellites' panels count the evictions the engine counted, and none holds more than its capacity", async () => {
    const evictions = async (capacityMb: number) => {
      const s = session({ workload: "replay", users: 0, capacityMb })
      await s.tick(4)
      const panels = Array.from({ length: s.satellites }, (_, i) => s.inspect(i) as { bytes: number; capacityBytes: number; evictions: number })
      expect(panels.every((p) => p.capacityBytes === capacityMb * 2 ** 20 && p.bytes <= p.capacityBytes)).toBe(true)
      const total = panels.reduce((n, p) => n + p.evictions, 0)
      expect(total).toBe(s.kv.engine.report({ wallSeconds: 0, syncSeconds: 0, workSeconds: 0 }).evictions)
      expect(s.describe().capacityBytes).toBe(capacityMb * 2 ** 20)
      await s.close()
      return total
    }
    expect(await evictions(1024)).toBe(0)
    expect(await evictions(1)).toBeGreaterThan(0)
  })

  it("a replay's migrations are drawn as migrations, not puts", async () => {
    const s = session({ workload: "replay", users: 0 })
    const kinds = new Set<number>()
    // 40 virtual seconds in ticks of 5, each tick's arcs taken before the ring could wrap.
    for (let t = 0; t < 8; t++) {
      const before = s.arcs.seq
      await s.tick(0.5)
      for (const kind of kindsSince(s, before)) kinds.add(kind)
    }
    expect(kinds).toEqual(new Set([ArcKind.hit, ArcKind.migration, ArcKind.put]))
    expect(s.stats().counters.migrationBytes).toBeGreaterThan(0)
    await s.close()
  })

  it("a prompt is answered by the model with KV from orbit the second time; a tick asked meanwhile does not wait for the answer; prompts at once are all answered, and closing waits for them", async () => {
    const s = session({ model: "tiny" })
    await s.tick(0.1)
    const first = await s.prompt("What is a satellite?")
    expect(first).toMatchObject({ type: "answer", cachedTokens: 0 })
    const start = s.now
    let answered = false
    const second = s.prompt("What is a satellite? Tell me more, please.").then((a) => ((answered = true), a))
    // The pacer's tick while the model thinks: the constellation moves on (and the page keeps drawing).
    await s.tick(0.5)
    expect(answered).toBe(false)
    expect(s.now - start).toBeGreaterThanOrEqual(5)
    const answer = await second
    expect(answer.cachedTokens).toBeGreaterThan(0)
    expect(answer.satellites.length).toBeGreaterThan(0)
    // Two viewers' prompts at once are both answered; closing waits for a prompt still being answered.
    const both = await Promise.all([s.prompt("Where is the sun?"), s.prompt("Why is the sky blue?")])
    expect(both.map((a) => a.type)).toEqual(["answer", "answer"])
    let last = false
    void s.prompt("One more question.").then(() => (last = true))
    await s.close()
    expect(last).toBe(true)
  }, 60_000)

  it("paused, a tick moves nothing; two ticks asked at once each move the clock their whole time", async () => {
    const s = session({})
    s.paused = true
    await s.tick(1)
    expect([s.now, s.stats().paused]).toEqual([0, true])
    s.paused = false
    await Promise.all([s.tick(0.25), s.tick(0.25)])
    expect(s.now).toBeCloseTo(5, 9)
    expect(s.stats().paused).toBe(false)
    await s.close()
  })
})
