import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeRunConfig, runInProcess } from "../src/actors/index.js"
import type { DeliveryRecord, HopRecord } from "../src/runtime/shard.js"
import { makeWorld } from "../src/actors/world.js"
import { makeSnapshot, SPEED_OF_LIGHT_KM_S } from "../src/topology/index.js"
import { buildShard } from "../src/runtime/build.js"
import { Mailboxes } from "../src/runtime/mailbox.js"
import { mergeReports } from "../src/runtime/report.js"
import { crossingRecorder } from "../experiments/lib/coupling.js"
import { EAGER_TREE_USERS } from "../src/actors/network/routing-share.js"
import type { Behaviour } from "../src/runtime/behaviour.js"
import { runInProcess as runEngine } from "../src/runtime/local.js"
import { I, type RecordBlock } from "../src/runtime/record.js"
import type { Network, World } from "../src/runtime/world.js"

const scenario = fc.record({
  pattern: fc.constantFrom("delta" as const, "star" as const),
  planes: fc.integer({ min: 3, max: 8 }),
  satsPerPlane: fc.integer({ min: 4, max: 12 }),
  altitudeKm: fc.integer({ min: 450, max: 1400 }),
  inclinationDeg: fc.integer({ min: 45, max: 98 }),
  users: fc.integer({ min: 0, max: 6 }),
  rate: fc.double({ min: 0.5, max: 20, noNaN: true }),
  seed: fc.nat(1000),
  shards: fc.integer({ min: 1, max: 3 }),
  simSeconds: fc.double({ min: 1, max: 4, noNaN: true })
})

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

const configOf = (s: Scenario) =>
  makeRunConfig({
    shells: [{ pattern: s.pattern, planes: s.planes, satsPerPlane: s.satsPerPlane, altitudeKm: s.altitudeKm, inclinationDeg: s.inclinationDeg, phasing: 1 % s.planes }],
    users: s.users, requestRatePerUser: s.rate, seed: s.seed, simSeconds: s.simSeconds, keysPerUser: 4, putFraction: 0.5
  })

describe("causality over random topologies and traffic (fast-check)", () => {
  it("no hop faster than light or over a link that is down; per-link FIFO; delivered + dropped + in flight = sent; shard count changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const config = configOf(s)
        const hops: Array<HopRecord> = []
        const deliveries: Array<DeliveryRecord> = []
        const r = await runInProcess(config, s.shards, { onHop: (h) => hops.push(h), onDelivery: (d) => deliveries.push(d) })
        // Conservation: nothing silently lost.
        expect(r.delivered + r.droppedTotal + r.inFlight).toBe(r.sent)
        // Independent link state, rebuilt from the config, at the epoch of each departure.
        const world = makeWorld(config)
        const snap = makeSnapshot(world.constellation)
        const byEpoch = new Map<number, { up: Uint8Array; lengthKm: Float64Array }>()
        const stateAt = (t: number) => {
          const e = Math.floor(t / config.epochSeconds)
          let st = byEpoch.get(e)
          if (!st) {
            snap.update(e * config.epochSeconds)
            st = { up: Uint8Array.from(snap.up), lengthKm: Float64Array.from(snap.lengthKm) }
            byEpoch.set(e, st)
          }
          return st
        }
        const lastArrival = new Map<string, number>()
        for (const h of [...hops].sort((a, b) => a.depart - b.depart)) {
          expect(h.arrival).toBeGreaterThan(h.depart)
          if (h.link >= 0) {
            const st = stateAt(h.depart)
            expect(st.up[h.link]).toBe(1)
            expect(h.arrival - h.depart + 1e-12).toBeGreaterThanOrEqual(st.lengthKm[h.link]! / SPEED_OF_LIGHT_KM_S)
            const key = `${h.from}>${h.to}`
            expect(h.arrival).toBeGreaterThanOrEqual(lastArrival.get(key) ?? 0)
            lastArrival.set(key, h.arrival)
          } else {
            // A ground leg is at least the altitude away.
            expect(h.arrival - h.depart).toBeGreaterThanOrEqual(s.altitudeKm / SPEED_OF_LIGHT_KM_S)
          }
        }
        // Every delivery is no earlier than its send time plus the delays of the hops it took.
        const pathDelay = new Map<string, number>()
        for (const h of hops) {
          const k = `${h.origin}:${h.originSeq}`
          pathDelay.set(k, (pathDelay.get(k) ?? 0) + (h.arrival - h.depart))
        }
        for (const d of deliveries) {
          expect(d.time).toBeGreaterThanOrEqual(d.sentAt + (pathDelay.get(`${d.origin}:${d.originSeq}`) ?? 0) - 1e-9)
        }
        // And the result does not depend on the shard count.
        const one = await runInProcess(config, 1)
        expect(r.traceHash).toBe(one.traceHash)
      }),
      { numRuns: 25 }
    )
  }, 300_000)
})

describe("the window bound", () => {
  // A hand-written driver of two shards with fixed windows [T, T + stretch x lookahead): with stretch 1
  // it is a correct (if slow) conservative schedule and must give the engine's own trace; with longer
  // windows a shard runs past messages another shard sends it, and the run breaks. That is what the
  // window bound (lookahead, earliest output times) protects.
  const drive = (stretch: number) => {
    const config = makeRunConfig({ preset: "paper-19x5", simSeconds: 3, users: 32, requestRatePerUser: 8 })
    const world = makeWorld(config)
    const shards = 2
    const owner = world.ownership(shards)
    const mailboxes = Mailboxes.allocate(shards, config.mailboxCapacity)
    const shared = new SharedArrayBuffer(world.sharedBytes(shards))
    const engines = [0, 1].map((index) => buildShard(world, { index, shards, owner, mailboxes, shared }))
    let T = 0
    for (let w = 0; T < config.simSeconds; w++) {
      for (const e of engines) e.ingest(w & 1, T)
      for (const e of engines) e.network.enterEpochOf(T)
      const net = engines[0]!.network
      const end = Math.min(T + stretch * net.lookahead, net.epochEnd, config.simSeconds)
      for (const e of engines) e.runWindow(end, (w & 1) ^ 1)
      T = end
    }
    const loop = { wallSeconds: 1, syncSeconds: 0, workSeconds: 1 }
    return mergeReports(world, engines.map((e) => e.report(loop)), 0, 0)
  }

  it("is what keeps runs exact: windows made longer than it change the trace and lose messages", async () => {
    const reference = await runInProcess(makeRunConfig({ preset: "paper-19x5", simSeconds: 3, users: 32, requestRatePerUser: 8 }), 1)
    const exact = drive(1)
    expect(exact.traceHash).toBe(reference.traceHash)
    expect(exact.dropped.invalid).toBe(0)
    const stretched = drive(40)
    expect(stretched.traceHash).not.toBe(reference.traceHash)
    // Records that reach a shard after it has run past their time are refused at the boundary.
    expect(stretched.dropped.invalid).toBeGreaterThan(0)
  }, 60_000)
})

describe("the window bound with more users than their ground legs are computed for", () => {
  // Past EAGER_TREE_USERS users, the lookahead takes every ground leg as a zenith pass at the lowest
  // altitude instead of finding each user's serving satellite: a bound that must still hold. A ground
  // leg crosses the cut once a user's serving satellite has moved on to the other shard's planes (a
  // user lives on the shard of its first one): minutes, so 300 virtual seconds.
  it("two shards give one shard's trace and refuse nothing at the boundary", async () => {
    const config = makeRunConfig({ preset: "paper-19x5", simSeconds: 300, users: EAGER_TREE_USERS + 44, requestRatePerUser: 0.5 })
    const [one, two] = [await runInProcess(config, 1), await runInProcess(config, 2)]
    expect(two.sent).toBeGreaterThan(100_000)
    expect([two.traceHash, two.dropped.invalid]).toEqual([one.traceHash, 0])
  }, 60_000)
})

describe("an unsynchronised run (a ceiling on speed, EngineConfig.unsynchronised)", () => {
  const config = makeRunConfig({ preset: "paper-19x5", simSeconds: 30, users: 32, requestRatePerUser: 8 })
  const ceiling = makeRunConfig({ ...config, unsynchronised: true })

  it("takes each epoch as one window and delivers what crossed the cut late, counting it, never in a shard's past", async () => {
    const recorder = crossingRecorder(makeWorld(ceiling).ownership(2))
    const crossed = recorder.crossings
    const lastAt = new Map<number, number>()
    let backwards = 0
    const report = await runInProcess(ceiling, 2, {
      onHop: recorder.onHop,
      onDelivery: (_d, env) => {
        if (env.time < (lastAt.get(env.dst) ?? 0)) backwards++
        lastAt.set(env.dst, env.time)
      }
    })
    expect(report.windows).toBe(ceiling.simSeconds / ceiling.epochSeconds)
    expect(backwards).toBe(0)
    // Hops are ms long and epochs 1 s: nearly everything that crosses arrives inside its epoch, late.
    expect(report.lateArrivals).toBeGreaterThan(0.9 * crossed.length)
    expect(report.lateArrivals).toBeLessThanOrEqual(crossed.length)
    expect(report.dropped.invalid).toBe(0)
    // Nearly the same work (replies up to an epoch late hold back a few requests, and the last epoch's
    // crossings are still in flight at the end): what makes it a fair ceiling.
    const exact = await runInProcess(config, 2)
    expect(exact.lateArrivals).toBe(0)
    expect(Math.abs(report.events - exact.events)).toBeLessThan(0.03 * exact.events)
    expect(report.traceHash).not.toBe(exact.traceHash)
  }, 60_000)

  it("changes nothing with one shard: there is nothing to wait for", async () => {
    const [one, oneCeiling] = [await runInProcess(config, 1), await runInProcess(ceiling, 1)]
    expect(oneCeiling.traceHash).toBe(one.traceHash)
    expect(oneCeiling.lateArrivals).toBe(0)
  }, 60_000)
})

describe("the window bound across epochs (a world built by hand: the engine alone)", () => {
  // Two actors, one a shard; every message takes 0.5 s in epoch 0 and 0.01 s after. Actor 0 wakes at 0.1
  // (nothing to send) and at 1.2 (sends to actor 1, which arrives at 1.21); actor 1 wakes at 1.5. After the
  // first window, each shard's earliest output comes from epoch 0's distances (1.2 + 0.5, 1.5 + 0.5), and
  // the next event is in epoch 1: that window must fall back to epoch 1's lookahead, or actor 1 runs its
  // 1.5 before the message of 1.21 has reached it.
  const TICK = 1, MSG = 2
  const delayIn = (epoch: number) => (epoch === 0 ? 0.5 : 0.01)
  class TwoSpeedNetwork implements Network {
    epochEnd = 0
    lookahead = 0
    readonly toCut = new Float64Array(2)
    readonly awaitsShared = false
    arrival = 0
    depart = 0
    link = -1
    private epoch = -1
    enterEpochOf(t: number): void {
      const e = Math.floor(t)
      if (e === this.epoch) return
      this.epoch = e
      this.epochEnd = e + 1
      this.lookahead = delayIn(e)
      this.toCut.fill(this.lookahead)
    }
    adoptShared(): void {}
    hop(b: RecordBlock, r: number, now: number): number {
      this.depart = now
      this.arrival = now + delayIn(this.epoch)
      return b.getI(r, I.dst)
    }
  }
  const worldLogging = (log: Array<string>): World => {
    const node: Behaviour<null> = {
      kind: "node",
      supervision: "stop",
      init: () => null,
      start: (self, _s, ctx) => {
        if (self === 0) [0.1, 1.2].forEach((t, k) => ctx.after(t, TICK, k))
        else ctx.after(1.5, TICK, 0)
      },
      handle: (_s, m, ctx) => {
        log.push(`${ctx.self} ${m.tag === TICK ? "tick" : "message"} at ${ctx.now.toFixed(2)}`)
        if (m.tag === TICK && ctx.self === 0 && m.p0 === 1) ctx.send(1, MSG, 64)
      }
    }
    return {
      config: { seed: 1, simSeconds: 3, realtimeFactor: 0, maxHops: 4, mailboxCapacity: 16, crashActor: -1, crashAtMessage: 0, crashShard: -1, crashShardAt: 0 },
      actorCount: 2, kindNames: ["node"], kinds: new Uint8Array(2), tagNames: [undefined, "Tick", "Message"],
      dropReasons: { network: [], admission: [] }, histograms: [],
      ownership: (shards) => Int32Array.of(0, shards > 1 ? 1 : 0),
      sharedBytes: () => 0,
      makeShard: () => ({ network: new TwoSpeedNetwork(), behaviours: [node] })
    }
  }

  it("the first window of a new epoch is bounded by that epoch's lookahead, not by outputs computed in the last", async () => {
    const runs = await Promise.all([1, 2].map(async (shards) => {
      const log: Array<string> = []
      const report = await runEngine(worldLogging(log), shards)
      return { log, invalid: report.dropped.invalid ?? 0 }
    }))
    const expected = ["0 tick at 0.10", "0 tick at 1.20", "1 message at 1.21", "1 tick at 1.50"]
    for (const run of runs) expect(run).toEqual({ log: expected, invalid: 0 })
  })
})
