/**
 * A run's report from its shards' (runtime/report.ts, runtime/metrics.ts), alone: what is summed, what
 * is the most of any shard, histograms merged before their percentiles are read, and a trace hash that
 * does not depend on which shard held which actor. (The determinism tests check whole runs on 1 and 2
 * shards agree; these say what each field means.)
 */
import { describe, expect, it } from "vitest"
import { DropReasons, dropCounts, encodeHistogram, latencySummary, makeHistogram, type ShardReport, tagCounts } from "../src/runtime/metrics.js"
import { mergeReports } from "../src/runtime/report.js"
import type { World } from "../src/runtime/world.js"

const world = { actorCount: 4, config: { simSeconds: 60 }, histograms: ["retrieval"] } as unknown as World<any>

/** A histogram of these latencies (microseconds), encoded as a shard sends it. */
const histogram = (values: ReadonlyArray<number>): string => {
  const h = makeHistogram()
  for (const v of values) h.recordValue(v)
  return encodeHistogram(h)
}

const shard = (o: Partial<ShardReport>): ShardReport => ({
  shard: 0, sent: 0, delivered: 0, forwarded: 0, timersSet: 0, timersFired: 0, deliveredByTag: {}, dropped: {}, inFlight: 0,
  windows: 0, wallSeconds: 1, syncSeconds: 0, workSeconds: 1, histograms: { retrieval: histogram([]) }, supervision: [],
  supervisionCount: 0, invalidFields: {}, lateArrivals: 0, counters: {}, actorHashes: new Uint32Array(0), storedItems: 0,
  evictions: 0, occupancy: [], series: {}, peakMailbox: 0, peakQueueRecords: 0, ...o
})

/** Lanes of actors as a shard reports them: [actor, lo, hi] triples. */
const lanes = (actors: ReadonlyArray<number>) => Uint32Array.from(actors.flatMap((a) => [a, 1000 + a, 2000 + a]))

describe("a run's report from its shards'", () => {
  it("sums counts, takes the most of any shard for times, windows and peaks, and merges histograms before reading them", () => {
    const a = shard({
      shard: 0, sent: 10, delivered: 8, forwarded: 5, timersFired: 3, inFlight: 1, windows: 40, wallSeconds: 2, syncSeconds: 0.5,
      deliveredByTag: { Beacon: 6, CacheGet: 2 }, dropped: { ttl: 1, lost: 0 }, invalidFields: { time: 2 }, lateArrivals: 1,
      counters: { getHits: 3 }, storedItems: 7, evictions: 2, occupancy: [[2, 500], [0, 100]], peakMailbox: 4, peakQueueRecords: 100,
      series: { getHits: { 0: 1, 10: 2 } }, supervisionCount: 1,
      supervision: [{ actor: 2, time: 5, action: "restart", reason: "x" }],
      histograms: { retrieval: histogram(Array.from({ length: 500 }, (_, i) => 1000 * (i + 1))) }
    })
    const b = shard({
      shard: 1, sent: 20, delivered: 15, forwarded: 1, timersFired: 4, inFlight: 2, windows: 42, wallSeconds: 3, syncSeconds: 1,
      deliveredByTag: { Beacon: 10 }, dropped: { ttl: 2, lost: 4 }, invalidFields: { time: 1, tag: 1 }, lateArrivals: 2,
      counters: { getHits: 1, getMisses: 5 }, storedItems: 1, evictions: 3, occupancy: [[1, 300]], peakMailbox: 9, peakQueueRecords: 300,
      series: { getHits: { 10: 5 }, puts: { 20: 1 } }, supervisionCount: 2,
      supervision: [{ actor: 3, time: 5, action: "stop", reason: "y" }, { actor: 1, time: 5, action: "restart", reason: "z" }],
      histograms: { retrieval: histogram(Array.from({ length: 500 }, (_, i) => 1000 * (i + 501))) }
    })
    const r = mergeReports(world, [a, b], 0.5, 2)
    expect(r).toMatchObject({
      workers: 2, simSeconds: 60, startSeconds: 0.5, wallSeconds: 3, events: 23, delivered: 23, sent: 30, forwarded: 6, timersFired: 7,
      inFlight: 3, windows: 42, lateArrivals: 3, supervisionCount: 3, storedItems: 8, evictions: 5, peakMailbox: 9, peakQueueRecords: 300,
      eventsPerSecond: 23 / 3, speedup: 20, barrierWaitShare: 1.5 / 5,
      deliveredByTag: { Beacon: 16, CacheGet: 2 }, dropped: { ttl: 3, lost: 4 }, droppedTotal: 7, invalidFields: { time: 3, tag: 1 },
      counters: { getHits: 4, getMisses: 5 }, series: { getHits: { 0: 1, 10: 7 }, puts: { 20: 1 } }
    })
    expect(r.occupancy).toEqual([[0, 100], [1, 300], [2, 500]])
    expect(r.supervision.map((e) => e.actor)).toEqual([1, 2, 3])
    // 1..1000 ms, half from each shard: percentiles of the whole, to hdr's three digits.
    const l = r.latency.retrieval!
    expect(l.count).toBe(1000)
    for (const [got, want] of [[l.p50Ms, 500], [l.p90Ms, 900], [l.p99Ms, 990], [l.maxMs, 1000], [l.meanMs, 500.5]] as const) {
      expect(Math.abs(got - want) / want).toBeLessThan(1e-3)
    }
    expect(l.cdf.map((p) => p.percentile)).toEqual([...Array.from({ length: 99 }, (_, i) => i + 1), 99.9])
    l.cdf.forEach(({ percentile, ms }) => expect(Math.abs(ms - percentile * 10) / (percentile * 10)).toBeLessThan(1e-3))
  })

  it("with no samples a latency summary is all zeros and an empty distribution", () => {
    expect(latencySummary(makeHistogram())).toEqual({ count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0, cdf: [] })
  })

  it("the trace hash folds every actor's lanes whichever shard held it, and any lane changes it", () => {
    const hash = (rs: ReadonlyArray<ShardReport>) => mergeReports(world, rs, 0, rs.length).traceHash
    const whole = hash([shard({ actorHashes: lanes([0, 1, 2, 3]) })])
    expect(hash([shard({ actorHashes: lanes([1, 3]) }), shard({ shard: 1, actorHashes: lanes([0, 2]) })])).toBe(whole)
    expect(hash([shard({ shard: 1, actorHashes: lanes([2, 0]) }), shard({ actorHashes: lanes([3, 1]) })])).toBe(whole)
    for (let k = 1; k < 12; k++) {
      if (k % 3 === 0) continue
      const changed = lanes([0, 1, 2, 3])
      changed[k]!++
      expect(hash([shard({ actorHashes: changed })])).not.toBe(whole)
    }
  })

  it("a shard reports the tags it delivered (named, or by number) and every drop reason, counted or not", () => {
    expect(tagCounts(Float64Array.of(0, 3, 0, 2), [undefined, "Beacon", "Tick"])).toEqual({ Beacon: 3, tag3: 2 })
    expect(dropCounts(Float64Array.of(0, 2), ["ttl", "lost"])).toEqual({ ttl: 0, lost: 2 })
  })

  it("drop reasons: the network's, then the engine's, then the admission model's, each at its own index", () => {
    const d = new DropReasons({ dropReasons: { network: ["noRoute", "linkDown"], admission: ["busy"] } })
    expect(d.names).toEqual(["noRoute", "linkDown", "ttl", "actorStopped", "invalid", "lost", "busy"])
    expect([d.ttl, d.actorStopped, d.invalid, d.lost, d.refused].map((k) => d.names[k])).toEqual(["ttl", "actorStopped", "invalid", "lost", "busy"])
  })
})
