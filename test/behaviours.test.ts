import { serialize } from "node:v8"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { AckedPuts, type Batch, PUT_ATTEMPTS, PUT_TIMEOUT_SECONDS } from "../src/actors/acked-puts.js"
import { client, type ClientOptions } from "../src/actors/client.js"
import { ground, homeOf } from "../src/actors/ground.js"
import { inference, type InferenceOptions, InferencePort, InferenceTimer, type LookupResult, type StoreResult, type ValueResult } from "../src/actors/inference.js"
import { BEACON_BYTES, CONTROL_BYTES, MAX_REPLICAS, satellite } from "../src/actors/satellite.js"
import { HEALTH_TIMEOUT_SECONDS, HealthView } from "../src/actors/health.js"
import { followHandover } from "../src/actors/kv-protocol.js"
import { MAX_TRAIN_SHARES } from "../src/actors/manifests.js"
import { ShareFetch } from "../src/actors/share-fetch.js"
import { frameChunk } from "../src/cache/integrity.js"
import { tracedBlockKey } from "../src/cache/keys.js"
import { decodeStaged, encodeStaged, PayloadWire, wireSlot } from "../src/cache/payload-wire.js"
import { Tag } from "../src/actors/protocol.js"
import { deliver, FakeContext } from "./support/fake-context.js"
import { lcg } from "./support/lcg.js"

// Each behaviour alone against a fake context (test/support/fake-context.ts): what it sends, sets and
// counts for what it is handed, with no engine, network or other actor in the way.

describe("satellite", () => {
  const sat = satellite({ capacityBytes: 1000, beaconIntervalSeconds: 1, islBandwidthBitsPerSecond: 8000 })
  // Loads ride on beacons only where a strategy reads them; the standard workload's carry zeros.
  const loadSat = satellite({ capacityBytes: 1000, beaconIntervalSeconds: 1, islBandwidthBitsPerSecond: 8000, beaconLoads: true })
  const setup = (behaviour = sat) => {
    const ctx = new FakeContext()
    ctx.self = 5
    return { ctx, state: behaviour.init(5) }
  }

  it("beacons each neighbour it has over that link, then sets its next beacon", () => {
    const { ctx, state } = setup()
    ctx.neighbours = [4, 6, -1, 24]
    ctx.now = 3
    deliver(sat, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 5 })
    expect(ctx.of("Beacon").map((s) => [s.dst, s.message.link, s.bytes])).toEqual([[4, 0, BEACON_BYTES], [6, 1, BEACON_BYTES], [24, 3, BEACON_BYTES]])
    expect(ctx.timers.map((t) => [t.at, t.message._tag])).toEqual([[4, "Tick"]])
    expect(ctx.of("Beacon").map((s) => [s.message.written, s.message.slotNeighboursWritten])).toEqual([[0, 0], [0, 0], [0, 0]])
  })

  it("tells its neighbours its write load by beacon, and answers LoadGet with its rotation box's", () => {
    const sat = loadSat
    const { ctx, state } = setup(sat)
    ctx.neighbours = [4, 6, -1, 24]
    deliver(sat, state, ctx, "CachePut", { key: 9, requestId: 2 }, { origin: 100, bytes: 300 })
    // Heard on the sender's slot 1: our slot 0 neighbour; its slot neighbours are two slots from us, outside the box.
    deliver(sat, state, ctx, "Beacon", { link: 1, written: 100, slotNeighboursWritten: 7_000 }, { origin: 4 })
    // Our next-plane neighbour (slot 3, its slot 2): its slot neighbours are the box's corners.
    deliver(sat, state, ctx, "Beacon", { link: 2, written: 50, slotNeighboursWritten: 900 }, { origin: 24 })
    deliver(sat, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 5 })
    expect(ctx.of("Beacon").map((s) => [s.dst, s.message.written, s.message.slotNeighboursWritten])).toEqual([[4, 300, 100], [6, 300, 100], [24, 300, 100]])
    deliver(sat, state, ctx, "LoadGet", { requestId: 7 }, { origin: 100 })
    expect(ctx.of("LoadReply").map((s) => [s.dst, s.message.requestId, s.message.load])).toEqual([[100, 7, 900]])
    deliver(sat, state, ctx, "Beacon", { link: 2, written: 50, slotNeighboursWritten: 10 }, { origin: 24 })
    deliver(sat, state, ctx, "LoadGet", { requestId: 8 }, { origin: 100 })
    expect(ctx.of("LoadReply").at(-1)!.message.load).toBe(300)
    // Loads only grow: one heard 60 s ago is carried forward at this satellite's mean rate (300 B in 100 s).
    ctx.now = 100
    deliver(sat, state, ctx, "Beacon", { link: 1, written: 290, slotNeighboursWritten: 0 }, { origin: 4, sentAt: 40 })
    deliver(sat, state, ctx, "LoadGet", { requestId: 9 }, { origin: 100 })
    expect(ctx.of("LoadReply").at(-1)!.message.load).toBeCloseTo(290 + 3 * 60, 9)
  })

  it("a beacon carries the larger of its in-plane neighbours' loads; the box's load counts the corners beyond either plane neighbour", () => {
    const sat = loadSat
    const { ctx, state } = setup(sat)
    ctx.neighbours = [4, 6, 14, 24]
    // Slot 0 (the sender's link 1) has written 100, slot 1 (its link 0) 150; beyond the previous plane
    // (slot 2, the sender's link 3), 800.
    deliver(sat, state, ctx, "Beacon", { link: 1, written: 100, slotNeighboursWritten: 0 }, { origin: 4 })
    deliver(sat, state, ctx, "Beacon", { link: 0, written: 150, slotNeighboursWritten: 0 }, { origin: 6 })
    deliver(sat, state, ctx, "Beacon", { link: 3, written: 20, slotNeighboursWritten: 800 }, { origin: 14 })
    deliver(sat, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 5 })
    expect(ctx.of("Beacon").map((s) => s.message.slotNeighboursWritten)).toEqual([150, 150, 150, 150])
    deliver(sat, state, ctx, "LoadGet", { requestId: 1 }, { origin: 100 })
    expect(ctx.of("LoadReply")[0]!.message.load).toBe(800)
  })

  it("satellites start beaconing at their own offsets within the first interval, not in step", () => {
    const ctx = new FakeContext()
    for (const self of [5, 6]) sat.start!(self, sat.init(self), ctx)
    expect(ctx.timers.map((t) => t.at)).toEqual([0, expect.closeTo(0.618, 3)])
  })

  it("a block known only by copies readers placed is answered with the copy nearest the asker", () => {
    const { ctx, state } = setup()
    for (const at of [40, 60]) deliver(sat, state, ctx, "DirPut", { key: 8, replica: true, locator: at }, { origin: 101 })
    for (const near of [0, 58]) deliver(sat, state, ctx, "DirGet", { key: 8, requestId: near, near, block: 0 }, { origin: 100 })
    expect(ctx.of("DirReply").map((s) => s.message.locator)).toEqual([40, 60])
  })

  it("answers gets and puts of the standard workload, echoing the request and its send time", () => {
    const { ctx, state } = setup()
    deliver(sat, state, ctx, "CacheGet", { key: 9, requestId: 1 }, { origin: 100, sentAt: 0.5 })
    deliver(sat, state, ctx, "CachePut", { key: 9, requestId: 2 }, { origin: 100, bytes: 300 })
    deliver(sat, state, ctx, "CacheGet", { key: 9, requestId: 3 }, { origin: 100 })
    deliver(sat, state, ctx, "CachePut", { key: 10, requestId: 4 }, { origin: 100, bytes: 2000 })
    const sent = ctx.take()
    // A hit's reply carries the block's bytes; a miss's, a control message.
    expect(sent.filter((s) => s.message._tag === "CacheGetReply").map((s) => s.bytes)).toEqual([CONTROL_BYTES, 300])
    expect(sent.map((s) => s.message)).toMatchObject([
      { _tag: "CacheGetReply", key: 9, requestId: 1, hit: false, requestSentAt: 0.5 },
      { _tag: "CachePutAck", key: 9, requestId: 2, stored: true },
      { _tag: "CacheGetReply", key: 9, requestId: 3, hit: true },
      // Larger than the store: refused.
      { _tag: "CachePutAck", key: 10, requestId: 4, stored: false }
    ])
  })

  it("keeps a block's directory entry and answers who wrote it", () => {
    const { ctx, state } = setup()
    deliver(sat, state, ctx, "DirGet", { key: 7, requestId: 1, near: -1, block: 2 }, { origin: 100 })
    deliver(sat, state, ctx, "DirPut", { key: 7, replica: false, locator: 123 }, { origin: 100 })
    deliver(sat, state, ctx, "DirGet", { key: 7, requestId: 2, near: -1, block: 0 }, { origin: 101 })
    expect(ctx.of("DirReply").map((s) => [s.dst, s.message.locator, s.message.block])).toEqual([[100, -1, 2], [101, 123, 0]])
  })

  it("the directory answers a lookup with the copy nearest the asker, keeps the newest MAX_REPLICAS copies, and answers without `near` with the block's own anchor", () => {
    const { ctx, state } = setup()
    const ask = (near: number) => {
      deliver(sat, state, ctx, "DirGet", { key: 7, requestId: near, near, block: 0 }, { origin: 100 })
      const [reply] = ctx.of("DirReply")
      ctx.take()
      return reply!.message.locator
    }
    deliver(sat, state, ctx, "DirPut", { key: 7, replica: false, locator: 100 }, { origin: 100 })
    for (const at of [10, 50, 50]) deliver(sat, state, ctx, "DirPut", { key: 7, replica: true, locator: at }, { origin: 101 })
    expect([ask(12), ask(60), ask(98), ask(-1)]).toEqual([10, 50, 100, 100])
    // Ties: 30 is 20 hops from the copies at 10 and 50 (the older wins), 75 is 25 from 50 and from the
    // block's own anchor at 100 (the own wins).
    expect([ask(30), ask(75)]).toEqual([10, 100])
    // A block written again is anchored anew; its copies stay.
    deliver(sat, state, ctx, "DirPut", { key: 7, replica: false, locator: 90 }, { origin: 102 })
    expect([ask(12), ask(86), ask(-1)]).toEqual([10, 90, 90])
    // MAX_REPLICAS more copies: the older ones (10, 50) go.
    for (let k = 0; k < MAX_REPLICAS; k++) deliver(sat, state, ctx, "DirPut", { key: 7, replica: true, locator: 300 + k }, { origin: 101 })
    expect([ask(12), ask(60), ask(303)]).toEqual([90, 90, 303])
    // Another key has no copies.
    deliver(sat, state, ctx, "DirGet", { key: 8, requestId: 0, near: 300, block: 0 }, { origin: 100 })
    expect(ctx.take()[0]!.message).toMatchObject({ _tag: "DirReply", locator: -1 })
  })

  it("the directory answers every lookup with the last writer recorded for the key, or -1 (fast-check, against a Map)", () => {
    fc.assert(fc.property(fc.array(fc.record({ put: fc.boolean(), key: fc.integer({ min: 0, max: 20 }), locator: fc.nat(5000) }), { minLength: 20, maxLength: 200 }), (ops) => {
      const { ctx, state } = setup()
      const model = new Map<number, number>()
      ops.forEach((o, i) => {
        if (o.put) {
          deliver(sat, state, ctx, "DirPut", { key: o.key, replica: false, locator: o.locator }, { origin: 100 })
          model.set(o.key, o.locator)
          return
        }
        deliver(sat, state, ctx, "DirGet", { key: o.key, requestId: i, near: -1, block: i % 7 }, { origin: 101 })
        const [reply] = ctx.take()
        expect(reply!.dst).toBe(101)
        expect(reply!.message).toMatchObject({ _tag: "DirReply", key: o.key, requestId: i, block: i % 7, locator: model.get(o.key) ?? -1 })
      })
      // Writes are silent: nothing was sent for them.
      expect(ctx.sent).toEqual([])
    }), { numRuns: 100 })
  })

  it("stores shares, serves them by key, and migrates them on order (moving, or copying with keep)", () => {
    const { ctx, state } = setup()
    deliver(sat, state, ctx, "BlockPut", { key: 1, acked: false, share: 3 }, { origin: 100, bytes: 200 })
    deliver(sat, state, ctx, "BlockPut", { key: 2, acked: false, share: 4 }, { origin: 100, bytes: 100 })
    expect(ctx.of("BlockPutAck")).toHaveLength(0)
    deliver(sat, state, ctx, "BlockGet", { key: 1, requestId: 8, ask: 17 }, { origin: 100 })
    deliver(sat, state, ctx, "BlockGet", { key: 99, requestId: 8, ask: 18 }, { origin: 100 })
    expect(ctx.take().map((s) => [s.bytes, s.message])).toMatchObject([[200, { _tag: "BlockReply", hit: true, ask: 17 }], [CONTROL_BYTES, { hit: false, ask: 18 }]])
    deliver(sat, state, ctx, "BlockPut", { key: 3, acked: false, share: 3 }, { origin: 100, bytes: 300 })
    // One order per (old, new) server: keys 1 and 3 move to 40 (9 was never here), key 2 is copied to 41.
    const order = (rows: Array<number>) => ctx.postManifest(ctx.self, Float64Array.from(rows))
    deliver(sat, state, ctx, "MigrateOrder", { manifest: order([3, 3, 0, 0, 9, 3, 0, 0, 1, 3, 0, 0]), target: 40 }, { origin: 100 })
    deliver(sat, state, ctx, "MigrateOrder", { manifest: order([2, 4, 1, 0]), target: 41 }, { origin: 100 })
    const sent = ctx.take()
    expect(sent.map((s) => [s.dst, s.bytes, s.message._tag])).toEqual([[100, CONTROL_BYTES, "ShareGone"], [40, 500, "MigrateData"], [41, 100, "MigrateData"]])
    const [gone, first, copy] = sent.map((s) => s.message as { manifest: number; stepBytes?: number })
    expect(ctx.rowsOf(gone!.manifest)).toEqual([[9, 3, 0, 0]])
    // A train: [key, share, bytes, sizeOnly] per share, stepped by its largest share (not its last).
    expect(ctx.rowsOf(first!.manifest)).toEqual([[3, 3, 300, 0], [1, 3, 200, 0]])
    expect(first!.stepBytes).toBe(300)
    expect(ctx.rowsOf(copy!.manifest)).toEqual([[2, 4, 100, 0]])
    expect([1, 2, 3].map((k) => state.store.has(k))).toEqual([false, true, false])
    expect(ctx.counters.get("migrationBytes")).toBe(600)
  })

  it("stores a train's shares as they arrive, one step apart, whatever it handles meanwhile", () => {
    const { ctx, state } = setup()
    ctx.now = 10
    // 100-byte steps at 8,000 bit/s: one share every 0.1 s.
    const manifest = ctx.postManifest(5, Float64Array.from([5, 0, 100, 0, 6, 0, 100, 0, 7, 0, 100, 0]))
    deliver(sat, state, ctx, "MigrateData", { manifest, stepBytes: 100 }, { origin: 40, bytes: 300 })
    expect([5, 6, 7].map((k) => state.store.has(k))).toEqual([true, false, false])
    // One timer, at the tail, whatever the train's length.
    expect(ctx.timers.map((t) => [t.at, t.message])).toMatchObject([[10.2, { _tag: "Tick", timer: 1, id: manifest }]])
    ctx.now = 10.15
    deliver(sat, state, ctx, "Beacon", { link: 1, written: 0, slotNeighboursWritten: 0 }, { origin: 4 })
    expect([5, 6, 7].map((k) => state.store.has(k))).toEqual([true, true, false])
    ctx.now = 10.2
    deliver(sat, state, ctx, "Tick", { timer: 1, id: manifest }, { origin: 5 })
    expect([5, 6, 7].map((k) => state.store.has(k))).toEqual([true, true, true])
    expect(state.trains.size).toBe(0)
  })

  it("holds exactly the trains' shares whose arrival has passed (fast-check, against the arrival times)", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 50 }), shares: fc.integer({ min: 1, max: 6 }), step: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 10 }),
      (trains, looks) => {
        const big = satellite({ capacityBytes: 1 << 20, beaconIntervalSeconds: 1, islBandwidthBitsPerSecond: 8 })
        const ctx = new FakeContext()
        ctx.self = 5
        const state = big.init(5)
        // Events in time order: train heads (at), and deliveries that look at the store (looks).
        const events = [...trains.map((t, i) => ({ time: t.at, train: i })), ...looks.map((time) => ({ time, train: -1 }))].sort((a, b) => a.time - b.time || b.train - a.train)
        const arrival = new Map<number, number>()
        for (const e of events) {
          ctx.now = e.time
          if (e.train >= 0) {
            const t = trains[e.train]!
            const rows = Array.from({ length: t.shares }, (_, k) => [1000 * e.train + k, 0, t.step, 0]).flat()
            rows.forEach((_, k) => k % 4 === 0 && arrival.set(rows[k]!, t.at + (k / 4) * t.step))
            deliver(big, state, ctx, "MigrateData", { manifest: ctx.postManifest(5, Float64Array.from(rows)), stepBytes: t.step }, { origin: 40, bytes: t.step * t.shares })
            continue
          }
          deliver(big, state, ctx, "Beacon", { link: 0, written: 0, slotNeighboursWritten: 0 }, { origin: 4 })
          for (const [key, at] of arrival) expect(state.store.has(key)).toBe(at <= e.time)
        }
      }
    ), { numRuns: 200 })
  })

  it("with bytes on the wire: shares migrate one to a message, are resent when refused at most three times, and a duplicate never replaces stored bytes", () => {
    const wire = new PayloadWire()
    // Actors from 100 on write bytes (inference actors); below, size-only writers (replay clients).
    const withWire = satellite({ capacityBytes: 1 << 20, beaconIntervalSeconds: 1, islBandwidthBitsPerSecond: 8000, wire, firstByteWriter: 100 })
    const ctx = new FakeContext()
    ctx.self = 5
    const state = withWire.init(5)
    const chunk = (key: number) => frameChunk(key, 0, new Uint8Array([key, 2, 3]))
    for (const key of [11, 12]) {
      wire.stage(5, wireSlot.put(key, 0, 5), { share: 0, chunks: [chunk(key)] })
      deliver(withWire, state, ctx, "BlockPut", { key, acked: false, share: 0 }, { origin: 100, bytes: 100 })
    }
    // A byte writer's put whose bytes are gone (a retransmission already taken) changes nothing; a
    // size-only writer's put is stored as it is.
    deliver(withWire, state, ctx, "BlockPut", { key: 11, acked: false, share: 0 }, { origin: 100, bytes: 100 })
    expect(state.store.read(11)?.payload?.chunks[0]).toEqual(chunk(11))
    deliver(withWire, state, ctx, "BlockPut", { key: 13, acked: false, share: 0 }, { origin: 60, bytes: 70 })
    expect(state.store.read(13)?.bytes).toBe(70)
    ctx.take()
    deliver(withWire, state, ctx, "MigrateOrder", { manifest: ctx.postManifest(5, Float64Array.of(11, 0, 0, 0, 12, 0, 0, 0, 13, 0, 0, 0)), target: 40 }, { origin: 100 })
    // One message per share, each acknowledged on its own; kept until then. The size-only share (no
    // bytes to check) is marked so, and leaves at once.
    const moved = ctx.take()
    expect(moved.map((s) => [s.dst, s.message._tag])).toEqual([[40, "MigrateData"], [40, "MigrateData"], [40, "MigrateData"]])
    expect(ctx.rowsOf((moved[2]!.message as { manifest: number }).manifest)).toEqual([[13, 0, 70, 1]])
    expect([state.store.has(11), state.store.has(12), state.store.has(13)]).toEqual([true, true, false])
    // Key 11 refused (corrupted on the way): sent again twice, then given up on; key 12 accepted: deleted here.
    for (let n = 0; n < 4; n++) deliver(withWire, state, ctx, "MigrateAck", { key: 11, accepted: false, share: 0 }, { origin: 40 })
    deliver(withWire, state, ctx, "MigrateAck", { key: 12, accepted: true, share: 0 }, { origin: 40 })
    expect([ctx.of("MigrateData").length, ctx.counters.get("migrationResends")]).toEqual([2, 2])
    expect([state.store.has(11), state.store.has(12)]).toEqual([true, false])
    // A copy (kept here) acknowledged intact stays here.
    deliver(withWire, state, ctx, "MigrateOrder", { manifest: ctx.postManifest(5, Float64Array.of(11, 0, 1, 0)), target: 41 }, { origin: 100 })
    deliver(withWire, state, ctx, "MigrateAck", { key: 11, accepted: true, share: 0 }, { origin: 41 })
    expect(state.store.has(11)).toBe(true)
    // The receiving side: a train's share whose bytes were taken already (sent again) does not replace the stored one.
    const receiver = withWire.init(40)
    const rctx = new FakeContext()
    rctx.self = 40
    const train = () => deliver(withWire, receiver, rctx, "MigrateData", { manifest: rctx.postManifest(40, Float64Array.of(21, 0, 100, 0)), stepBytes: 100 }, { origin: 5 })
    wire.stage(40, wireSlot.migrate(21, 40), { share: 0, chunks: [chunk(21)] })
    train()
    train()
    expect(receiver.store.read(21)?.payload?.chunks[0]).toEqual(chunk(21))
    expect(rctx.of("MigrateAck").map((s) => s.message.accepted)).toEqual([true])
    // A size-only share is stored as its size, with nothing to check or acknowledge.
    deliver(withWire, receiver, rctx, "MigrateData", { manifest: rctx.postManifest(40, Float64Array.of(22, 0, 70, 1)), stepBytes: 70 }, { origin: 5 })
    expect([receiver.store.read(22)?.bytes, rctx.of("MigrateAck").length]).toEqual([70, 1])
  })

  it("the directory keeps a copy's locator once, however often it is told", () => {
    const { ctx, state } = setup()
    for (const locator of [30, 30, 31]) deliver(sat, state, ctx, "DirPut", { key: 4, replica: true, locator }, { origin: 100 })
    expect(state.replicas.get(4)).toEqual([30, 31])
  })

  it("with bytes on the wire: a corrupted put is refused and not acknowledged, an intact one is stored and acknowledged", () => {
    const wire = new PayloadWire()
    const withWire = satellite({ capacityBytes: 1 << 20, beaconIntervalSeconds: 1, islBandwidthBitsPerSecond: 8000, wire })
    const ctx = new FakeContext()
    ctx.self = 5
    const state = withWire.init(5)
    const good = frameChunk(11, 0, new Uint8Array([1, 2, 3]))
    const bad = good.slice()
    bad[bad.length - 1]! ^= 1
    wire.stage(5, wireSlot.put(11, 0, 5), { share: 0, chunks: [bad] })
    deliver(withWire, state, ctx, "BlockPut", { key: 11, acked: true, share: 0 }, { origin: 100, bytes: bad.length })
    expect(state.store.has(11)).toBe(false)
    expect(ctx.counters.get("corruptPutsRefused")).toBe(1)
    wire.stage(5, wireSlot.put(11, 0, 5), { share: 0, chunks: [good] })
    deliver(withWire, state, ctx, "BlockPut", { key: 11, acked: true, share: 0 }, { origin: 100, bytes: good.length })
    expect(state.store.read(11)?.payload?.chunks[0]).toEqual(good)
    expect(ctx.of("BlockPutAck").map((s) => [s.dst, s.message.key, s.message.share])).toEqual([[100, 11, 0]])
  })
})

describe("ground user", () => {
  const g = ground({ satellites: 50, firstUserId: 50, requestRatePerUser: 2, keysPerUser: 4, putFraction: 0.3, chunkBytes: 1000 })

  it("sends each request to its key's home satellite and schedules the next; records replies' round trips and hit counts", () => {
    const ctx = new FakeContext()
    ctx.self = 52
    const state = g.init(52)
    g.start!(52, state, ctx)
    expect(ctx.timers).toHaveLength(1)
    for (let k = 0; k < 20; k++) deliver(g, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 52 })
    const sent = ctx.take()
    expect(sent).toHaveLength(20)
    for (const s of sent) {
      const m = s.message as { _tag: string; key: number; requestId: number }
      expect(["CacheGet", "CachePut"]).toContain(m._tag)
      // User 2's keys are 8 .. 11, each at its home.
      expect(m.key).toBeGreaterThanOrEqual(8)
      expect(m.key).toBeLessThan(12)
      expect(s.dst).toBe(homeOf(m.key, 50))
      expect(s.bytes).toBe(m._tag === "CachePut" ? 1000 : CONTROL_BYTES)
    }
    expect(new Set(sent.map((s) => (s.message as { requestId: number }).requestId)).size).toBe(20)
    expect(ctx.timers).toHaveLength(21)
    ctx.now = 2
    deliver(g, state, ctx, "CacheGetReply", { key: 8, requestId: 0, requestSentAt: 1.75, hit: true }, { origin: 3 })
    deliver(g, state, ctx, "CachePutAck", { key: 8, requestId: 1, requestSentAt: 1.5, stored: true }, { origin: 3 })
    expect(ctx.recorded).toEqual([["retrieval", 0.25], ["put", 0.5]])
    expect(ctx.counters.get("getHits")).toBe(1)
  })
})

describe("replay client", () => {
  const ns = { modelId: "m", tenantSalt: "t" }
  const mk = (anchored: boolean, more: Partial<ClientOptions> = {}) => client({
    firstUserId: 100, requests: [[{ time: 1, hashIds: [5, 6], inputTokens: 1500 }]], servers: 3, blockBytes: 3000, chunkBytes: 1000, epochSeconds: 1,
    directoryOf: (key) => (key % 7) + 50, namespace: ns, anchored,
    // 1,000-token blocks, 1 ms of prefill per token.
    ttft: { blockTokens: 1000, prefillSeconds: (from, to) => (to - from) * 1e-3 },
    ...more
  })
  const keys = [5, 6].map((h) => tracedBlockKey(h, ns))
  /** A client (user 0, under satellite 20; user 7 under 30) whose first request is due at t = 1, and that request started. */
  const started = (anchored: boolean, more: Partial<ClientOptions> = {}, candidates?: ReadonlyArray<number>) => {
    const c = mk(anchored, more)
    const ctx = new FakeContext()
    ctx.self = 100
    ctx.serving.set(0, 20).set(7, 30)
    if (candidates) ctx.anchors = () => candidates
    const state = c.init(100)
    ctx.now = 1
    deliver(c, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 100 })
    return { c, ctx, state }
  }

  it("asks the directory, fetches every share of the written blocks around their writer, and writes the rest around itself", () => {
    const { c, ctx, state } = started(false)
    expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject(keys.map((key, j) => [(key % 7) + 50, { _tag: "DirGet", key, requestId: 0, block: j }]))
    // Block 0 was written by user 7 (now under satellite 30), block 1 by nobody.
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: 7, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
    expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject([30, 31, 32].map((sat, k) => [sat, { _tag: "BlockGet", key: keys[0]!, ask: k }]))
    ctx.now = 1.2
    for (let k = 0; k < 3; k++) deliver(c, state, ctx, "BlockReply", { key: keys[0]!, requestId: 0, hit: true, ask: k }, { origin: 30 + k })
    expect(ctx.counters.get("hitBlocks")).toBe(1)
    // Retrieval of the hit; TTFT = the 0.2-s lookup + the prefill of the 500 tokens not cached; cold: all 1,500.
    expect(ctx.recorded.map(([h]) => h)).toEqual(["retrieval", "ttft", "coldTtft"])
    expect(ctx.recorded[0]![1]).toBeCloseTo(0.2, 12)
    expect(ctx.recorded[1]![1]).toBeCloseTo(0.7, 12)
    expect(ctx.recorded[2]![1]).toBeCloseTo(1.5, 12)
    expect(ctx.counters.get("ttftMicros")).toBe(700_000)
    // Block 1 is written around the client's own serving satellite (20): directory entry and three shares.
    const writes = ctx.take()
    expect(writes.map((s) => [s.dst, s.message._tag])).toEqual([[(keys[1]! % 7) + 50, "DirPut"], [20, "BlockPut"], [21, "BlockPut"], [22, "BlockPut"]])
    expect(writes[0]!.message).toMatchObject({ locator: 0 })
  })

  it("a share gone from its satellite (evicted) forgets its block: the block is not moved at the next handover", () => {
    const { c, ctx, state } = started(false)
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: -1, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
    expect([...state.written.keys()]).toEqual(keys)
    ctx.take()
    const gone = () => deliver(c, state, ctx, "ShareGone", { manifest: ctx.postManifest(21, Float64Array.of(keys[0]!, 1, 0, 0)) }, { origin: 21 })
    gone()
    gone()
    expect([[...state.written.keys()], ctx.counters.get("blocksForgotten")]).toEqual([[keys[1]], 1])
    // The writer moves on: only the block still held is ordered to follow it.
    ctx.serving.set(0, 23)
    ctx.now = 2
    deliver(c, state, ctx, "Tick", { timer: 1, id: 0 }, { origin: 100 })
    const orders = ctx.of("MigrateOrder")
    expect(orders.length).toBeGreaterThan(0)
    for (const o of orders) expect(ctx.rowsOf(o.message.manifest).map((r) => r[0])).toEqual([keys[1]])
  })

  it("fetches as soon as the directory's answers settle the prefix: an unwritten block's answer ends the wait for the blocks after it", () => {
    const { c: three, ctx, state } = started(false, { requests: [[{ time: 1, hashIds: [5, 6, 7], inputTokens: 3000 }]] })
    const ks = [5, 6, 7].map((h) => tracedBlockKey(h, ns))
    expect(ctx.take().map((s) => s.message._tag)).toEqual(["DirGet", "DirGet", "DirGet"])
    // Block 1 is unwritten: nothing is fetched while block 0 has not answered ...
    deliver(three, state, ctx, "DirReply", { key: ks[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
    expect(ctx.take()).toEqual([])
    // ... and block 0's answer settles the prefix at one block: its shares are asked without block 2's answer.
    ctx.now = 1.1
    deliver(three, state, ctx, "DirReply", { key: ks[0]!, requestId: 0, locator: 7, block: 0 }, { origin: 55 })
    expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject([30, 31, 32].map((sat, k) => [sat, { _tag: "BlockGet", key: ks[0]!, ask: k }]))
    ctx.now = 1.3
    for (let k = 0; k < 3; k++) deliver(three, state, ctx, "BlockReply", { key: ks[0]!, requestId: 0, hit: true, ask: k }, { origin: 30 + k })
    expect(ctx.counters.get("hitBlocks")).toBe(1)
    expect(ctx.recorded[0]).toEqual(["retrieval", expect.closeTo(0.3, 12)])
    // Block 2's late answer changes nothing.
    ctx.take()
    deliver(three, state, ctx, "DirReply", { key: ks[2]!, requestId: 0, locator: 9, block: 2 }, { origin: 57 })
    expect(ctx.take()).toEqual([])
  })

  it("anchored: the directory records the centre written around, and nothing follows a handover", () => {
    const c = mk(true)
    const ctx = new FakeContext()
    ctx.self = 100
    ctx.serving.set(0, 20)
    const state = c.init(100)
    c.start!(100, state, ctx)
    // Only the request timer: no epoch timer for handovers.
    expect(ctx.timers.map((t) => t.message)).toMatchObject([{ _tag: "Tick", timer: 0 }])
    ctx.now = 1
    deliver(c, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 100 })
    ctx.take()
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: -1, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
    expect(ctx.of("DirPut").map((s) => s.message.locator)).toEqual([20, 20])
  })

  it("anchored: a block anchored at satellite 0 is remembered like any other, and read there without asking the directory", () => {
    const { c, ctx, state } = started(true, { requests: [[{ time: 1, hashIds: [5, 6], inputTokens: 1500 }, { time: 2, hashIds: [5], inputTokens: 1000 }]] })
    ctx.take()
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: 0, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
    expect(state.anchors.get(keys[0]!)).toBe(0)
    expect(ctx.take().filter((s) => s.message._tag === "BlockGet").map((s) => s.dst)).toEqual([0, 1, 2])
    ctx.now = 2
    deliver(c, state, ctx, "Tick", { timer: 0, id: 1 }, { origin: 100 })
    expect(ctx.take().map((s) => [s.dst, s.message._tag])).toEqual([[0, "BlockGet"], [1, "BlockGet"], [2, "BlockGet"]])
  })

  it("anchored with two candidates: asks each for its box's load as the request starts, and writes its new blocks around the less loaded as the lookup ends; one that has not answered by then counts as the most loaded", () => {
    for (const answers of [[[40, 500], [60, 200]], [[40, 500]]] as const) {
      const { c, ctx, state } = started(true, { requests: [[{ time: 1, hashIds: [5, 6], inputTokens: 1500 }, { time: 5, hashIds: [5, 6], inputTokens: 1500 }]] }, [40, 60])
      // The lookup's directory asks, then one load ask per candidate whatever the number of blocks.
      expect(ctx.take().map((s) => [s.dst, s.message._tag])).toEqual([[(keys[0]! % 7) + 50, "DirGet"], [(keys[1]! % 7) + 50, "DirGet"], [40, "LoadGet"], [60, "LoadGet"]])
      ctx.now = 1.1
      for (const [sat, load] of answers) deliver(c, state, ctx, "LoadReply", { requestId: 0, load }, { origin: sat })
      ctx.now = 1.2
      for (const [k, key] of keys.entries()) deliver(c, state, ctx, "DirReply", { key, requestId: 0, locator: -1, block: k }, { origin: 55 })
      // Written as the lookup ends, whether or not every candidate answered; a late answer changes nothing.
      const around = answers.length === 2 ? 60 : 40
      expect(ctx.of("DirPut").map((s) => s.message.locator)).toEqual([around, around])
      expect(ctx.of("BlockPut").map((s) => s.dst)).toEqual([around, around + 1, around + 2, around, around + 1, around + 2])
      // Anchors are remembered: the next turn asks neither the directory nor the loads for these blocks.
      expect([...state.anchors.values()]).toEqual([around, around])
      expect(state.choosing.size).toBe(0)
      ctx.take()
      ctx.now = 1.3
      deliver(c, state, ctx, "LoadReply", { requestId: 0, load: 0 }, { origin: 60 })
      expect(ctx.take()).toEqual([])
      expect(state.choosing.size).toBe(0)
      ctx.now = 5
      deliver(c, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 100 })
      expect(ctx.take().map((s) => [s.dst, s.message._tag])).toEqual([0, 1].flatMap(() => [0, 1, 2].map((k) => [around + k, "BlockGet"])))
      expect(state.choosing.size).toBe(0)
    }
  })

  it("anchored with replicas: another writer's block fetched from further than the limit is placed again near the reader, which reads it there; its own blocks and near ones are not", () => {
    // 20, 5 and 4 hops from the reader's satellite 20 (limit 4: the first two are far), and 2.
    for (const foundAt of [40, 25, 24, 22]) {
      const far = foundAt - 20 > 4
      const two = [{ time: 1, hashIds: [5, 6], inputTokens: 1500 }, { time: 2, hashIds: [5, 6, 7], inputTokens: 2500 }]
      const { c, ctx, state } = started(true, { requests: [two], replicateBeyondHops: 4 })
      // The directory asks carry the asker's serving satellite.
      expect(ctx.take().map((s) => s.message)).toMatchObject(keys.map((key) => ({ _tag: "DirGet", key, near: 20 })))
      // Block 0 was written by another conversation around foundAt (20 hops away, or 2); block 1 by nobody.
      deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: foundAt, block: 0 }, { origin: 55 })
      deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
      ctx.take()
      for (let k = 0; k < 3; k++) deliver(c, state, ctx, "BlockReply", { key: keys[0]!, requestId: 0, hit: true, ask: k }, { origin: foundAt + k })
      const puts = ctx.take().filter((s) => s.message._tag === "DirPut" || s.message._tag === "BlockPut").map((s) => [s.dst, s.message])
      const newBlock = [[(keys[1]! % 7) + 50, { _tag: "DirPut", key: keys[1]!, replica: false, locator: 20 }], ...[20, 21, 22].map((sat, k) => [sat, { _tag: "BlockPut", key: keys[1]!, share: k }])]
      if (far) {
        // A copy of block 0 around satellite 20 (directory told), then the new block 1.
        const copy = [[(keys[0]! % 7) + 50, { _tag: "DirPut", key: keys[0]!, replica: true, locator: 20 }], ...[20, 21, 22].map((sat, k) => [sat, { _tag: "BlockPut", key: keys[0]!, share: k }])]
        expect(puts).toMatchObject([...copy, ...newBlock])
        expect(ctx.counters.get("replicaBytes")).toBe(3000)
      } else {
        expect(puts).toMatchObject(newBlock)
        expect(ctx.counters.get("replicaBytes")).toBeUndefined()
      }
      // The next turn, under satellite 30: block 0 (found, now 10 hops from its copy, or 6 or 8) is
      // looked up again, nearer copies may exist; block 1 (its own, 10 hops away) is read where it was
      // written; block 2 is new.
      ctx.serving.set(0, 30)
      ctx.now = 2
      deliver(c, state, ctx, "Tick", { timer: 0, id: 1 }, { origin: 100 })
      expect(ctx.take().filter((s) => s.message._tag === "DirGet").map((s) => s.message)).toMatchObject([{ key: keys[0]!, near: 30, block: 0 }, { block: 2 }])
      // Both blocks come back whole from around 20 (block 0's copy) or where block 0 was: block 0, another
      // writer's and 6 or more hops from 30, is copied near 30; block 1, its own, is not, however far.
      const key2 = tracedBlockKey(7, ns)
      deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 1, locator: far ? 20 : foundAt, block: 0 }, { origin: 55 })
      deliver(c, state, ctx, "DirReply", { key: key2, requestId: 1, locator: -1, block: 2 }, { origin: 57 })
      for (const g of ctx.of("BlockGet")) deliver(c, state, ctx, "BlockReply", { key: g.message.key, requestId: 1, hit: true, ask: g.message.ask }, { origin: g.dst })
      expect(ctx.of("DirPut").map((s) => [s.message.key, s.message.replica, s.message.locator])).toEqual([[keys[0]!, true, 30], [key2, false, 30]])
    }
  })

  it("with nothing written the epoch ticks sleep, and the next write resumes them on the times they had", () => {
    const { c, ctx, state } = started(false)
    const epochTicks = () => ctx.timers.filter((t) => t.message._tag === "Tick" && t.message.timer === 1).map((t) => t.at)
    ctx.timers.length = 0
    // In the first epoch a tick is always followed by the next (wake's arithmetic needs now >= one epoch).
    ctx.now = 0.5
    deliver(c, state, ctx, "Tick", { timer: 1, id: 0 }, { origin: 100 })
    expect(epochTicks()).toEqual([1.5])
    ctx.now = 1.5
    deliver(c, state, ctx, "Tick", { timer: 1, id: 0 }, { origin: 100 })
    expect(epochTicks()).toEqual([1.5])
    // The lookup ends at 3.7 with nothing found: both blocks are written, and the ticks resume at 4.5.
    ctx.now = 3.7
    for (const [k, key] of keys.entries()) deliver(c, state, ctx, "DirReply", { key, requestId: 0, locator: -1, block: k }, { origin: 55 })
    expect(ctx.of("BlockPut").map((s) => s.dst)).toEqual([20, 21, 22, 20, 21, 22])
    expect(epochTicks()).toEqual([1.5, 4.5])
    ctx.now = 4.5
    deliver(c, state, ctx, "Tick", { timer: 1, id: 0 }, { origin: 100 })
    expect(epochTicks()).toEqual([1.5, 4.5, 5.5])
  })

  it("a write landing exactly on a sleeping tick's time resumes the ticks one epoch later", () => {
    const { c, ctx, state } = started(false)
    ctx.timers.length = 0
    ctx.now = 1.5
    deliver(c, state, ctx, "Tick", { timer: 1, id: 0 }, { origin: 100 })
    ctx.now = 3.5
    for (const [k, key] of keys.entries()) deliver(c, state, ctx, "DirReply", { key, requestId: 0, locator: -1, block: k }, { origin: 55 })
    expect(ctx.timers.map((t) => t.at)).toEqual([4.5])
  })

  it("anchored: another writer's block written again by this reader (a share did not come back) is its own from then on: read where it is, however far", () => {
    const two = [{ time: 1, hashIds: [5, 6], inputTokens: 1500 }, { time: 2, hashIds: [5, 6], inputTokens: 1500 }]
    const { c, ctx, state } = started(true, { requests: [two], replicateBeyondHops: 4 })
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: 40, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: -1, block: 1 }, { origin: 56 })
    for (const [k, hit] of [true, false, true].entries()) deliver(c, state, ctx, "BlockReply", { key: keys[0]!, requestId: 0, hit, ask: k }, { origin: 40 + k })
    // Written again where it was (40), as its own; block 1 around the reader.
    expect(ctx.of("DirPut").map((s) => [s.message.key, s.message.replica, s.message.locator])).toEqual([[keys[0]!, false, 40], [keys[1]!, false, 20]])
    ctx.take()
    ctx.serving.set(0, 30)
    ctx.now = 2
    deliver(c, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 100 })
    expect(ctx.take().map((s) => [s.dst, s.message._tag])).toEqual([40, 41, 42, 20, 21, 22].map((sat) => [sat, "BlockGet"]))
  })

  it("anchored: a refused lookup forgets the load answers it was waiting for", () => {
    const { c, ctx, state } = started(true, {}, [40, 60])
    expect(state.choosing.size).toBe(1)
    deliver(c, state, ctx, "Busy", { key: keys[0]!, requestId: 0, rejected: Tag.DirGet, ref: 0 }, { origin: 55 })
    expect([state.choosing.size, state.pending.size, ctx.counters.get("outcome.rejected")]).toEqual([0, 0, 1])
  })

  it("a lookup whose answers do not all come back ends at its 30-s deadline with what did", () => {
    const { c, ctx, state } = started(false)
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: 7, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: 7, block: 1 }, { origin: 56 })
    // Block 0's three shares come back, block 1's never do.
    for (let k = 0; k < 3; k++) deliver(c, state, ctx, "BlockReply", { key: keys[0]!, requestId: 0, hit: true, ask: k }, { origin: 30 + k })
    ctx.advanceTo(30.9)
    expect(ctx.counters.get("requests")).toBeUndefined()
    ctx.advanceTo(31)
    expect(ctx.counters.get("timedOut")).toBe(1)
    expect(ctx.counters.get("hitBlocks")).toBe(1)
    expect(ctx.recorded).toEqual([["retrieval", 30], ["ttft", 30.5], ["coldTtft", 1.5]])
  })

  it("a refused put or directory entry is counted and the lookup goes on; a refused share fetch rejects the request", () => {
    const { c, ctx, state } = started(false)
    deliver(c, state, ctx, "Busy", { key: keys[0]!, requestId: 0, rejected: Tag.BlockPut, ref: 0 }, { origin: 20 })
    deliver(c, state, ctx, "Busy", { key: keys[0]!, requestId: 0, rejected: Tag.DirPut, ref: 0 }, { origin: 55 })
    expect([ctx.counters.get("writesRejected"), ctx.counters.get("requests"), state.pending.size]).toEqual([2, undefined, 1])
    deliver(c, state, ctx, "Busy", { key: keys[0]!, requestId: 0, rejected: Tag.BlockGet, ref: 0 }, { origin: 30 })
    expect([ctx.counters.get("outcome.rejected"), state.pending.size]).toEqual([1, 0])
  })

  it("a block placed on fewer than S satellites ends the prefix: no share of it or of blocks after it is asked", () => {
    const { c, ctx, state } = started(false)
    ctx.take()
    // Block 1's writer (user 0, under 20) has one satellite around it; block 0's (user 7, under 30) three.
    ctx.place = (centre, n) => (centre === 20 ? [20] : Array.from({ length: n }, (_, k) => centre + k))
    deliver(c, state, ctx, "DirReply", { key: keys[0]!, requestId: 0, locator: 7, block: 0 }, { origin: 55 })
    deliver(c, state, ctx, "DirReply", { key: keys[1]!, requestId: 0, locator: 0, block: 1 }, { origin: 56 })
    expect(ctx.of("BlockGet").map((s) => [s.dst, s.message.key])).toEqual([30, 31, 32].map((sat) => [sat, keys[0]!]))
  })

  it("a prompt served whole still prefills its last token; a missed one records no retrieval", () => {
    const { c, ctx, state } = started(false, { requests: [[{ time: 1, hashIds: [5, 6], inputTokens: 2000 }]] })
    for (const [k, key] of keys.entries()) deliver(c, state, ctx, "DirReply", { key, requestId: 0, locator: 7, block: k }, { origin: 55 })
    ctx.now = 1.2
    for (const s of ctx.of("BlockGet")) deliver(c, state, ctx, "BlockReply", { key: s.message.key, requestId: 0, hit: true, ask: s.message.ask }, { origin: s.dst })
    expect(ctx.counters.get("hitBlocks")).toBe(2)
    // 1,999 of the 2,000 tokens from the cache: 1 ms of prefill after the 0.2-s lookup.
    expect(ctx.recorded).toEqual([["retrieval", expect.closeTo(0.2, 12)], ["ttft", expect.closeTo(0.201, 12)], ["coldTtft", 2]])
    const missed = started(false)
    for (const [k, key] of keys.entries()) deliver(missed.c, missed.state, missed.ctx, "DirReply", { key, requestId: 0, locator: -1, block: k }, { origin: 55 })
    expect(missed.ctx.counters.get("outcome.missed")).toBe(1)
    expect(missed.ctx.recorded.map(([h]) => h)).toEqual(["ttft", "coldTtft"])
  })

  it("with maxInFlight requests waiting, the next one is rejected at the source; one fewer is not", () => {
    const three = [1, 2, 3].map((time) => ({ time, hashIds: [time + 4], inputTokens: 500 }))
    const { c, ctx, state } = started(false, { requests: [three], maxInFlight: 2 })
    ctx.now = 2
    deliver(c, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 100 })
    expect([state.pending.size, ctx.counters.get("rejectedBy.clientBacklog")]).toEqual([2, undefined])
    ctx.now = 3
    deliver(c, state, ctx, "Tick", { timer: 0, id: 0 }, { origin: 100 })
    expect([state.pending.size, ctx.counters.get("rejectedBy.clientBacklog"), ctx.counters.get("outcome.rejected")]).toEqual([2, 1, 1])
  })

  it("with no satellite overhead a request misses whole and nothing is asked or written", () => {
    const { ctx } = started(false)
    const uncovered = new FakeContext()
    uncovered.self = 101
    const c = mk(false, { firstUserId: 101 })
    const state = c.init(101)
    uncovered.now = 1
    deliver(c, state, uncovered, "Tick", { timer: 0, id: 0 }, { origin: 101 })
    expect([uncovered.counters.get("uncovered"), uncovered.counters.get("outcome.missed"), uncovered.counters.get("unplaced")]).toEqual([1, 1, undefined])
    expect([uncovered.sent, state.written.size]).toEqual([[], 0])
    // The same request under a satellite asks the directory.
    expect(ctx.of("DirGet").length).toBe(2)
  })

  it("a keyed (hashed) strategy puts each share where its key hashes and keeps no blocks to move", () => {
    const { c, ctx, state } = started(false, { hashedServer: (key, n) => Array.from({ length: n }, (_, k) => 60 + ((key + k) % 9)) })
    for (const [k, key] of keys.entries()) deliver(c, state, ctx, "DirReply", { key, requestId: 0, locator: -1, block: k }, { origin: 55 })
    expect(ctx.of("BlockPut").map((s) => s.dst)).toEqual(keys.flatMap((key) => [0, 1, 2].map((k) => 60 + ((key + k) % 9))))
    expect(state.written.size).toBe(0)
  })

  it("puts that place nothing (too few satellites around) do not wake the sleeping epoch ticks", () => {
    const { c, ctx, state } = started(false)
    ctx.timers.length = 0
    ctx.now = 1.5
    deliver(c, state, ctx, "Tick", { timer: 1, id: 0 }, { origin: 100 })
    ctx.place = () => [20]
    ctx.now = 3.7
    for (const [k, key] of keys.entries()) deliver(c, state, ctx, "DirReply", { key, requestId: 0, locator: -1, block: k }, { origin: 55 })
    expect([ctx.counters.get("unplaced"), ctx.of("BlockPut").length, ctx.timers.length]).toEqual([2, 0, 0])
  })

  it("a refused lookup ends the request as rejected; its deadline then finds nothing to do", () => {
    const { c, ctx, state } = started(false)
    deliver(c, state, ctx, "Busy", { key: 1, requestId: 0, rejected: 7, ref: 0 }, { origin: 55 })
    expect(ctx.counters.get("outcome.rejected")).toBe(1)
    expect(ctx.counters.get("rejectedBy.satelliteMailbox")).toBe(1)
    ctx.advanceTo(100)
    expect(ctx.counters.get("timedOut")).toBeUndefined()
    expect(ctx.counters.get("requests")).toBe(1)
    // A rejected request is prefilled whole: its TTFT is the cold one (it was refused at once).
    expect(ctx.recorded).toEqual([["ttft", 1.5], ["coldTtft", 1.5]])
    expect(ctx.failures).toEqual([])
  })
})

describe("inference actor", () => {
  const setup = (more: Partial<InferenceOptions> = {}) => {
    const port = new InferencePort()
    const wire = new PayloadWire()
    const b = inference({ satellites: 100, servers: 2, epochSeconds: 1, directoryOf: () => 99, port, wire, ...more })
    const ctx = new FakeContext()
    ctx.self = 100
    ctx.serving.set(0, 10)
    const state = b.init(100)
    /** Submit a job and wake the actor. */
    const job = (j: Parameters<InferencePort["submit"]>[1]) => {
      port.submit(100, j)
      deliver(b, state, ctx, "Tick", { timer: InferenceTimer.job, id: 0 }, { origin: 100 })
    }
    /** Answer share-fetch asks with the chunks of `shareOf(ask)` (undefined: a miss). */
    const answer = (asks: ReadonlyArray<{ readonly dst: number; readonly message: { readonly key: number; readonly requestId: number; readonly ask: number } }>, chunksOf: (key: number, share: number) => ReadonlyArray<Uint8Array> | undefined) => {
      for (const a of asks) {
        const chunks = chunksOf(a.message.key, a.message.ask % 2)
        if (chunks) wire.stage(100, wireSlot.reply(100, a.message.requestId, a.message.ask), { share: a.message.ask % 2, chunks })
        deliver(b, state, ctx, "BlockReply", { key: a.message.key, requestId: a.message.requestId, hit: chunks !== undefined, ask: a.message.ask }, { origin: a.dst })
      }
    }
    return { port, wire, b, ctx, state, job, answer }
  }
  const chunk = (key: number, k: number) => [frameChunk(key, k, new Uint8Array([key & 255, k]))]
  const share = (k: number) => ({ share: k, chunks: chunk(42, k) })

  it("stores a block's shares with acknowledgement, and sends again only what was not acknowledged in time", () => {
    const { port, b, ctx, state } = setup()
    let stored: StoreResult | undefined
    port.submit(100, { kind: "store", keys: [42], shares: [[share(0).chunks, share(1).chunks]], done: (r) => (stored = r) })
    deliver(b, state, ctx, "Tick", { timer: InferenceTimer.job, id: 0 }, { origin: 100 })
    expect(stored?.satellites).toEqual([10, 11])
    expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject([[99, { _tag: "DirPut", key: 42, locator: 0 }], [10, { _tag: "BlockPut", acked: true, share: 0 }], [11, { _tag: "BlockPut", acked: true, share: 1 }]])
    ctx.now = 0.2
    deliver(b, state, ctx, "BlockPutAck", { key: 42, share: 0 }, { origin: 10 })
    // Share 1's acknowledgement never comes: sent again at each deadline, then given up.
    ctx.advanceTo(PUT_TIMEOUT_SECONDS - 1e-9)
    expect(ctx.take()).toEqual([])
    ctx.advanceTo(PUT_TIMEOUT_SECONDS)
    expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject([[11, { _tag: "BlockPut", acked: true, share: 1 }]])
    ctx.advanceTo(PUT_ATTEMPTS * PUT_TIMEOUT_SECONDS - 1e-9)
    expect(ctx.take()).toHaveLength(PUT_ATTEMPTS - 2)
    expect(ctx.counters.get("putRetries")).toBe(PUT_ATTEMPTS - 1)
    // Given up on satellite 11: it is down in the actor's view, and share 1 goes to the placement's next
    // satellite (12), which the actor still has the bytes for.
    ctx.advanceTo(PUT_ATTEMPTS * PUT_TIMEOUT_SECONDS)
    expect(ctx.counters.get("putsAbandoned")).toBe(1)
    expect(state.health.at(ctx.now)(11)).toBe(false)
    expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject([[12, { _tag: "BlockPut", acked: true, share: 1 }]])
    expect(state.written.get(42)).toEqual([10, 12])
    deliver(b, state, ctx, "BlockPutAck", { key: 42, share: 1 }, { origin: 12 })
    ctx.advanceTo(10)
    expect(ctx.take()).toEqual([])
    expect(ctx.counters.get("sharesReplaced")).toBe(1)
    expect(ctx.failures).toEqual([])
  })

  it("looks a prefix up around its own satellite, checks what comes back, and reports the satellites that served it", () => {
    const { port, wire, b, ctx, state } = setup()
    let found: LookupResult | undefined
    port.submit(100, { kind: "lookup", keys: [42], done: (r) => (found = r) })
    deliver(b, state, ctx, "Tick", { timer: InferenceTimer.job, id: 0 }, { origin: 100 })
    const asks = ctx.of("BlockGet")
    expect(asks.map((s) => [s.dst, s.message.key])).toEqual([[10, 42], [11, 42]])
    ctx.now = 0.1
    for (const [k, ask] of asks.entries()) {
      wire.stage(100, wireSlot.reply(100, ask.message.requestId, ask.message.ask), share(k))
      deliver(b, state, ctx, "BlockReply", { key: 42, requestId: ask.message.requestId, hit: true, ask: ask.message.ask }, { origin: ask.dst })
    }
    expect(found?.blocks).toHaveLength(1)
    expect(found?.satellites).toEqual([10, 11])
    expect(found?.finishedAt).toBe(0.1)
    expect(found?.timedOut).toBe(false)
  })


  it("reports the satellites that served in id order and counts the blocks hit; a block it wrote is looked up where it sent it, before a handover moves it", () => {
    const { b, state, ctx, job, answer } = setup()
    // A placement that puts share 0 on the higher id.
    ctx.place = (centre) => [centre + 1, centre]
    job({ kind: "store", keys: [42], shares: [[chunk(42, 0), chunk(42, 1)]], done: () => {} })
    ctx.take()
    // Its satellite is now 30, and no epoch has passed to move the block: it is still on 11 and 10.
    ctx.serving.set(0, 30)
    let found: LookupResult | undefined
    job({ kind: "lookup", keys: [42], done: (r) => (found = r) })
    const asks = ctx.of("BlockGet")
    ctx.take()
    expect(asks.map((s) => s.dst)).toEqual([11, 10])
    answer(asks, chunk)
    expect([found?.blocks.length, found?.satellites, ctx.counters.get("inferenceHitBlocks")]).toEqual([1, [10, 11], 1])
    // A ShareGone names every share that was gone.
    deliver(b, state, ctx, "ShareGone", { manifest: ctx.postManifest(100, Float64Array.of(42, 0, 0, 0, 43, 1, 0, 0)) }, { origin: 10 })
    expect(ctx.counters.get("sharesGone")).toBe(2)
  })

  it("a lookup missing an answer asks again for exactly that share at each deadline, twice, then ends timed out with what came back", () => {
    const { ctx, job, answer } = setup()
    let found: LookupResult | undefined
    job({ kind: "lookup", keys: [42], done: (r) => (found = r) })
    const asks = ctx.of("BlockGet")
    ctx.take()
    answer(asks.slice(0, 1), chunk)
    for (const t of [2, 4]) {
      ctx.advanceTo(t - 1e-9)
      expect(ctx.take()).toEqual([])
      ctx.advanceTo(t)
      expect(ctx.take().map((s) => [s.dst, s.message])).toMatchObject([[11, { _tag: "BlockGet", key: 42 }]])
    }
    ctx.advanceTo(6 - 1e-9)
    expect(found).toBeUndefined()
    ctx.advanceTo(6)
    expect(found).toMatchObject({ blocks: [], satellites: [], timedOut: true, finishedAt: 6 })
    expect(ctx.counters.get("lookupTimeouts")).toBe(1)
  })

  it("a late answer to a finished lookup has its bytes taken off the wire", () => {
    const { wire, ctx, job, answer } = setup()
    job({ kind: "lookup", keys: [42], done: () => {} })
    const asks = ctx.of("BlockGet")
    ctx.take()
    ctx.advanceTo(6)
    answer(asks, chunk)
    expect(wire.take(wireSlot.reply(100, asks[0]!.message.requestId, 0), 1, 100)).toBeUndefined()
    expect(ctx.counters.get("inferenceHitBlocks")).toBe(0)
  })

  it("a prefix with no block placed on enough satellites ends at once, empty and not timed out", () => {
    const { ctx, job } = setup()
    ctx.place = () => [10]
    let found: LookupResult | undefined
    job({ kind: "lookup", keys: [42, 43], done: (r) => (found = r) })
    expect(found).toMatchObject({ blocks: [], timedOut: false, finishedAt: 0 })
    expect(ctx.take()).toEqual([])
    expect(ctx.counters.get("inferenceHitBlocks")).toBe(0)
  })

  it("values: each key is reported as it settles, a key with too few satellites misses at once, and one never answered misses at the end", () => {
    const { ctx, job, answer } = setup()
    ctx.place = (centre, n) => (centre === 10 ? Array.from({ length: n }, (_, k) => 10 + k) : [])
    const reported: Array<ValueResult> = []
    job({ kind: "values", keys: [42, 43, 44], each: (r) => reported.push(r) })
    const asks = ctx.of("BlockGet")
    ctx.take()
    expect(asks.map((s) => s.message.key)).toEqual([42, 42, 43, 43, 44, 44])
    ctx.now = 0.1
    answer(asks.filter((s) => s.message.key === 43), chunk)
    expect(reported.map((r) => [r.index, r.shares !== undefined, r.finishedAt])).toEqual([[1, true, 0.1]])
    answer(asks.filter((s) => s.message.key === 44).slice(0, 1), () => undefined)
    expect(reported.map((r) => [r.index, r.shares !== undefined])).toEqual([[1, true], [2, false]])
    ctx.advanceTo(6)
    expect(reported.map((r) => [r.index, r.shares !== undefined])).toEqual([[1, true], [2, false], [0, false]])
    expect(ctx.counters.get("inferenceLookups")).toBe(3)
    // Away from every satellite: all three miss at once, nothing is asked.
    const away = setup({ hashedServer: (key, n) => Array.from({ length: n }, (_, k) => 50 + k) })
    away.ctx.serving.clear()
    const missed: Array<ValueResult> = []
    away.job({ kind: "values", keys: [42, 43, 44], each: (r) => missed.push(r) })
    expect([missed.map((r) => [r.index, r.shares]), away.ctx.take()]).toEqual([[[0, undefined], [1, undefined], [2, undefined]], []])
    // And the lookup is over there and then, not at its deadline.
    expect([away.state.lookups.size, away.ctx.counters.get("inferenceLookups")]).toEqual([0, 3])
  })

  it("a sparse store puts only the shares holding chunks, and its lookup asks only those; a later full store asks them all again", () => {
    const { ctx, job, answer, state } = setup()
    job({ kind: "store", keys: [42], shares: [[chunk(42, 0), []]], sparse: true, done: () => {} })
    expect(ctx.take().map((s) => [s.dst, s.message._tag])).toEqual([[99, "DirPut"], [10, "BlockPut"]])
    let found: LookupResult | undefined
    job({ kind: "lookup", keys: [42], done: (r) => (found = r) })
    const asks = ctx.of("BlockGet")
    ctx.take()
    expect(asks.map((s) => [s.dst, s.message.ask])).toEqual([[10, 0]])
    answer(asks, chunk)
    // Served by the one satellite that holds a share.
    expect([found?.blocks.length, found?.satellites]).toEqual([1, [10]])
    job({ kind: "store", keys: [42], shares: [[chunk(42, 0), chunk(42, 1)]], sparse: true, done: () => {} })
    ctx.take()
    job({ kind: "lookup", keys: [42], done: () => {} })
    expect(ctx.of("BlockGet").map((s) => [s.dst, s.message.ask])).toEqual([[10, 0], [11, 1]])
    expect(state.held.size).toBe(0)
  })

  it("an acknowledged store is done once, when every put is acknowledged", () => {
    const { ctx, job, b, state } = setup()
    const done: Array<StoreResult> = []
    job({ kind: "store", keys: [42], shares: [[chunk(42, 0), chunk(42, 1)]], acked: true, done: (r) => done.push(r) })
    expect(done).toEqual([])
    ctx.now = 0.1
    deliver(b, state, ctx, "BlockPutAck", { key: 42, share: 0 }, { origin: 10 })
    expect(done).toEqual([])
    ctx.now = 0.2
    deliver(b, state, ctx, "BlockPutAck", { key: 42, share: 1 }, { origin: 11 })
    expect(done).toEqual([{ kind: "store", satellites: [10, 11], at: 0.2 }])
  })

  it("with two copies, a share served by its second copy is written back to the first unacknowledged, with the share's bytes", () => {
    const { ctx, job, answer } = setup({ redundancy: 2 })
    job({ kind: "lookup", keys: [42], done: () => {} })
    const first = ctx.of("BlockGet")
    expect(first.map((s) => s.dst)).toEqual([10, 11])
    ctx.take()
    // Copy 0 of share 0 (satellite 10) misses; its copy 1 (satellite 12) serves it.
    answer(first.slice(0, 1), () => undefined)
    const second = ctx.of("BlockGet")
    expect(second.map((s) => s.dst)).toEqual([12])
    ctx.take()
    answer(second, chunk)
    expect(ctx.of("BlockPut").map((s) => [s.dst, s.bytes, s.message])).toMatchObject([[10, chunk(42, 0)[0]!.length, { key: 42, share: 0, acked: false }]])
  })

  it("with two copies, a block needs twice the servers: with fewer it is not placed", () => {
    const { ctx, job } = setup({ redundancy: 2 })
    ctx.place = (centre, n) => Array.from({ length: Math.min(n, 3) }, (_, k) => centre + k)
    job({ kind: "store", keys: [42], shares: [[chunk(42, 0), chunk(42, 1)]], done: () => {} })
    expect([ctx.counters.get("unplaced"), ctx.take()]).toEqual([1, []])
  })

  it("a put given up on after its block moved on is not placed again", () => {
    const { ctx, job, state } = setup()
    job({ kind: "store", keys: [42], shares: [[chunk(42, 0), chunk(42, 1)]], acked: true, done: () => {} })
    ctx.take()
    // A handover moved the block to 20 and 21 meanwhile (followHandover); the old puts are never acknowledged.
    state.written.set(42, [20, 21])
    ctx.advanceTo(PUT_ATTEMPTS * PUT_TIMEOUT_SECONDS)
    expect(ctx.counters.get("putsAbandoned")).toBe(2)
    expect(ctx.of("BlockPut").every((s) => s.dst === 10 || s.dst === 11)).toBe(true)
    expect([ctx.counters.get("sharesReplaced"), state.written.get(42)]).toEqual([undefined, [20, 21]])
  })

  it("epochs: heartbeats to the satellites holding its shares; keyed and anchored placements have no epoch timer, and keyed writes keep no blocks", () => {
    const { ctx, job, b, state } = setup()
    b.start!(100, state, ctx)
    expect(ctx.timers.map((t) => [t.at, t.message])).toMatchObject([[0.5, { _tag: "Tick", timer: InferenceTimer.epoch }]])
    job({ kind: "store", keys: [42, 43], shares: [[chunk(42, 0), chunk(42, 1)], [chunk(43, 0), chunk(43, 1)]], done: () => {} })
    ctx.take()
    ctx.now = 0.5
    deliver(b, state, ctx, "Tick", { timer: InferenceTimer.epoch, id: 0 }, { origin: 100 })
    // One heartbeat each (the first epoch after a store also checks the placement's satellites have answered: the same ones).
    expect(ctx.of("Ping").map((s) => s.dst).sort()).toEqual([10, 11])
    for (const more of [{ anchored: true }, { hashedServer: (key: number, n: number) => Array.from({ length: n }, (_, k) => 60 + k) }]) {
      const other = setup(more)
      other.b.start!(100, other.state, other.ctx)
      expect(other.ctx.timers).toEqual([])
      if (!("hashedServer" in more)) continue
      other.job({ kind: "store", keys: [42], shares: [[chunk(42, 0), chunk(42, 1)]], done: () => {} })
      expect([other.ctx.of("BlockPut").map((s) => s.dst), other.state.written.size]).toEqual([[60, 61], 0])
    }
  })
})

describe("share fetch", () => {
  const S = 2
  /**
   * A fetch of blocks 41, 42, 43 (two shares, two copies): copy g of share k of block j on satellite
   * 10 j + 5 g + k; a chunk starting 255 fails the check.
   */
  const fetchOf = (shape: ConstructorParameters<typeof ShareFetch>[5] = {}, copies = 2) => {
    const wire = new PayloadWire()
    const repairs: Array<[number, number, number]> = []
    const targets = [0, 1, 2].map((j) => Array.from({ length: copies * S }, (_, i) => 10 * j + 5 * Math.floor(i / S) + (i % S)))
    const fetch = new ShareFetch({
      servers: S, copies, wire,
      verify: (_key, share) => share.chunks.filter((c) => c[0] === 255).length,
      repair: (_ctx, sat, key, share) => void repairs.push([sat, key, share.share])
    }, 7, [41, 42, 43], targets, 3, shape)
    const ctx = new FakeContext()
    ctx.self = 100
    fetch.start(ctx)
    const asked = () => ctx.take().map((s) => s.message as Extract<typeof s.message, { _tag: "BlockGet" }>)
    const reply = (ask: number, from: number, share?: { share: number; first: number }) => {
      if (share) wire.stage(100, wireSlot.reply(100, 7, ask), { share: share.share, chunks: [Uint8Array.of(share.first, 1)] })
      fetch.onReply(ctx, { key: 0, requestId: 7, hit: share !== undefined, ask, hops: 1, origin: from } as never)
    }
    return { fetch, ctx, asked, reply, repairs }
  }

  it("a miss asks the next copy; a share corrupted twice loses its copy; a good copy after lost ones is written back; a failed share ends the prefix, and a late reply past it is not taken", () => {
    const { fetch, ctx, asked, reply, repairs } = fetchOf()
    expect(asked().map((m) => [m.key, m.ask])).toEqual([[41, 0], [41, 1], [42, 2], [42, 3], [43, 4], [43, 5]])
    // Block 0, share 0: a miss on copy 0, then copy 1 serves it and copy 0 gets it back.
    reply(0, 0)
    expect(asked().map((m) => [m.key, m.ask])).toEqual([[41, 6]])
    reply(6, 5, { share: 0, first: 1 })
    expect(repairs).toEqual([[0, 41, 0]])
    reply(1, 1, { share: 1, first: 1 })
    expect(fetch.complete(0)).toBe(true)
    // Block 1, share 0: corrupted, asked again of the same copy, corrupted again: lost; copy 1 misses:
    // the share has failed, and with it blocks 1 and 2.
    reply(2, 10, { share: 0, first: 255 })
    reply(asked()[0]!.ask, 10, { share: 0, first: 255 })
    const last = asked()
    expect(last).toHaveLength(1)
    expect(ctx.counters.get("corruptChunksDetected")).toBe(2)
    reply(last[0]!.ask, 15)
    expect(fetch.prefix).toBe(1)
    expect(fetch.settled).toBe(true)
    // Block 2, share 0 answers late: past the prefix, not taken, nothing written back.
    reply(4, 20, { share: 0, first: 1 })
    expect(fetch.from[4]).toBe(-1)
    expect(fetch.shares[2]![0]).toBeUndefined()
    expect(repairs).toHaveLength(1)
    expect(fetch.leadingComplete()).toBe(1)
    expect(ctx.take()).toEqual([])
  })

  it("a deadline asks the next copy; a late miss from the copy asked before changes nothing; the next copy gets its own second read", () => {
    const { fetch, ctx, asked, reply, repairs } = fetchOf()
    asked()
    fetch.retry(ctx)
    // Every share asked again, of its second copy.
    const again = asked()
    expect(again.map((m) => [m.key, m.ask])).toEqual([[41, 6], [41, 7], [42, 8], [42, 9], [43, 10], [43, 11]])
    expect(ctx.of("BlockGet")).toEqual([])
    reply(0, 0)
    expect(asked()).toEqual([])
    // Block 0, share 0: the second copy is corrupted once (asked again), then good.
    reply(6, 5, { share: 0, first: 255 })
    const second = asked()
    expect(second).toHaveLength(1)
    reply(second[0]!.ask, 5, { share: 0, first: 1 })
    expect([fetch.shares[0]![0], fetch.from[0]]).toEqual([[Uint8Array.of(1, 1)], 5])
    expect(repairs).toEqual([])
  })

  it("a copy corrupted twice is lost; the next copy still gets its own second read, and the good share is written back to the lost copy", () => {
    const { fetch, asked, reply, repairs } = fetchOf()
    asked()
    reply(0, 0, { share: 0, first: 255 })
    reply(asked()[0]!.ask, 0, { share: 0, first: 255 })
    const next = asked()
    expect(next.map((m) => m.key)).toEqual([41])
    reply(next[0]!.ask, 5, { share: 0, first: 255 })
    const again = asked()
    expect(again).toHaveLength(1)
    reply(again[0]!.ask, 5, { share: 0, first: 1 })
    expect([fetch.from[0], fetch.prefix, repairs]).toEqual([5, 3, [[0, 41, 0]]])
  })

  it("a satellite answering with another share of the block fills that share's place; the share asked goes on to its next copy", () => {
    const { fetch, asked, reply } = fetchOf()
    asked()
    reply(0, 0, { share: 1, first: 1 })
    expect([fetch.shares[0]![1], fetch.from[1]]).toEqual([[Uint8Array.of(1, 1)], 0])
    expect(asked().map((m) => [m.key, m.ask])).toEqual([[41, 6]])
    // Share 1's own answer comes too late to count twice.
    reply(1, 1, { share: 1, first: 1 })
    expect(fetch.from[1]).toBe(0)
  })

  it("an answer with another share whose place is filled already is not taken twice; the share asked goes on to its next copy", () => {
    const { fetch, asked, reply } = fetchOf()
    asked()
    reply(1, 1, { share: 1, first: 1 })
    reply(0, 0, { share: 1, first: 1 })
    expect([fetch.from[1], asked().map((m) => [m.key, m.ask])]).toEqual([1, [[41, 6]]])
  })

  it("a late answer from the copy asked before a deadline, holding another share, fills that share's place and asks nothing more", () => {
    const { fetch, ctx, asked, reply } = fetchOf()
    asked()
    fetch.retry(ctx)
    asked()
    reply(0, 0, { share: 1, first: 1 })
    expect([fetch.from[1], asked()]).toEqual([0, []])
  })

  it("with three copies, a good share is written back to the copy that missed after a deadline, not to the copy never heard from", () => {
    const { fetch, ctx, asked, reply, repairs } = fetchOf({}, 3)
    asked()
    fetch.retry(ctx)
    expect(asked().map((m) => m.ask)).toEqual([6, 7, 8, 9, 10, 11])
    // Share 0 of block 0: copy 1 (satellite 5) misses, copy 2 (satellite 10) serves it.
    reply(6, 5)
    const next = asked()
    expect(next.map((m) => [m.key, m.ask])).toEqual([[41, 12]])
    reply(12, 10, { share: 0, first: 1 })
    expect([fetch.from[0], repairs]).toEqual([10, [[5, 41, 0]]])
  })

  it("independent blocks: each settles alone, a failed share fails only its block, and chunks that failed their check are counted per block", () => {
    // Block 1 holds one share (a sparse value): it settles on that share alone.
    const { fetch, asked, reply } = fetchOf({ independent: true, held: (j) => (j === 1 ? 1 : S) })
    expect(asked().map((m) => m.ask)).toEqual([0, 1, 2, 3, 4])
    reply(2, 10, { share: 0, first: 1 })
    expect(fetch.settledBlocks).toEqual([1])
    // Block 0: share 0 good, share 1 corrupted twice on both copies: block 0 fails, block 2 still waits.
    reply(0, 0, { share: 0, first: 1 })
    reply(1, 1, { share: 1, first: 255 })
    for (let n = 0; n < 3; n++) reply(asked()[0]!.ask, 1, { share: 1, first: 255 })
    expect(fetch.settledBlocks).toEqual([1, 0])
    expect([fetch.waitingIn(0), fetch.waitingIn(2), fetch.settled]).toEqual([false, true, false])
    expect([fetch.badChunksIn(0), fetch.badChunksIn(1), fetch.badChunksIn(2), fetch.badChunks]).toEqual([4, 0, 0, 4])
    reply(3, 20, { share: 0, first: 1 })
    reply(4, 21, { share: 1, first: 1 })
    expect([fetch.settledBlocks, fetch.settled, fetch.complete(0), fetch.complete(2)]).toEqual([[1, 0, 2], true, false, true])
  })
})

describe("the payload wire", () => {
  it("flips bits at the link rate over every hop a share crossed: one bit in a chunk hit, the staged bytes untouched", () => {
    const rate = 1e-4, chunks = 2000, bytes = 100
    // A fixed stream: the counts below are the same on every run.
    const random = lcg(12345)
    const wire = new PayloadWire({ bitErrors: { rate, randomFor: () => random } })
    const original = Array.from({ length: chunks }, (_, k) => new Uint8Array(bytes).fill(k & 255))
    const flipsOver = (hops: number) => {
      wire.stage(7, `s${hops}`, { share: 0, chunks: original })
      const got = wire.take(`s${hops}`, hops, 7)!
      let hit = 0
      got.chunks.forEach((c, k) => {
        let bits = 0
        for (let i = 0; i < bytes; i++) for (let d = c[i]! ^ original[k]![i]!; d !== 0; d &= d - 1) bits++
        expect(bits).toBeLessThanOrEqual(1)
        hit += bits
      })
      return hit
    }
    // A share taken where it was staged still crossed one link (the ground leg): counted as one hop.
    for (const hops of [0, 1, 5]) {
      const p = 1 - (1 - rate) ** (8 * bytes * Math.max(1, hops))
      const sd = Math.sqrt(chunks * p * (1 - p))
      expect(Math.abs(flipsOver(hops) - chunks * p)).toBeLessThan(4 * sd)
    }
    expect(original.every((c, k) => c.every((b) => b === (k & 255)))).toBe(true)
    // Taken once: a second take finds nothing.
    expect(wire.take("s1", 1, 7)).toBeUndefined()
  })

  it("reads staged bytes from another shard only as { slot, share, chunks } of byte arrays", () => {
    const payload = { share: 2, chunks: [Uint8Array.of(1, 2), Uint8Array.of(3)] }
    expect(decodeStaged(encodeStaged("put:1:2:3", payload))).toEqual({ slot: "put:1:2:3", payload })
    for (const bad of [{ slot: "s", share: 1, chunks: [[1, 2]] }, { slot: "s", share: 1.5, chunks: [] }, { slot: 3, share: 1, chunks: [] }, { slot: "s", share: 1 }]) {
      expect(() => decodeStaged(new Uint8Array(serialize(bad)))).toThrow(/a staged-bytes frame is not \{ slot, share, chunks \}/)
    }
  })
})

describe("acknowledged puts", () => {
  const setup = () => {
    const ctx = new FakeContext()
    ctx.self = 100
    const puts = new AckedPuts(new PayloadWire())
    const log: Array<string> = []
    const watch = (name: string, batch: Batch) => puts.watch(ctx, batch, (ps) => void log.push(`${name} abandoned ${ps.map((p) => `${p.key}@${p.sat}`).join(",")}`), () => void log.push(`${name} settled at ${ctx.now}`))
    const put = (key: number, sat: number) => ({ key, sat, payload: { share: 0, chunks: [frameChunk(key, 0, new Uint8Array([1]))] } })
    /** A store job named `name` putting share 0 of each [key, satellite], watched. */
    const job = (name: string, ...shares: Array<[number, number]>) => {
      const batch = puts.batch()
      for (const [key, sat] of shares) puts.put(ctx, batch, put(key, sat))
      watch(name, batch)
      return batch
    }
    return { ctx, puts, log, watch, put, job }
  }

  it("a later job that puts the same share on the same satellite takes it over: the earlier job stops waiting for it at once", () => {
    const { ctx, puts, log, job } = setup()
    job("first", [1, 10], [2, 11])
    puts.onAck(2, 11)
    ctx.settle()
    ctx.now = 0.1
    job("second", [1, 10])
    ctx.settle()
    expect(log).toEqual(["first settled at 0.1"])
    ctx.now = 0.2
    puts.onAck(1, 10)
    ctx.settle()
    ctx.advanceTo(5)
    expect(log).toEqual(["first settled at 0.1", "second settled at 0.2"])
    expect([ctx.counters.get("putRetries"), ctx.of("BlockPut").length, puts.awaiting]).toEqual([undefined, 3, 0])
  })

  it("a job that puts the same share on the same satellite twice (a key set twice in one MSET) waits for its acknowledgement", () => {
    const { ctx, puts, log, job } = setup()
    job("job", [1, 10], [1, 10])
    ctx.settle()
    expect(log).toEqual([])
    ctx.now = 0.1
    puts.onAck(1, 10)
    ctx.settle()
    expect(log).toEqual(["job settled at 0.1"])
    expect([ctx.of("BlockPut").length, puts.awaiting]).toEqual([2, 0])
  })

  it("a job with no puts is settled at once; a put carries its share's bytes and asks for its acknowledgement", () => {
    const { ctx, puts, log, watch, put } = setup()
    watch("empty", puts.batch())
    expect(log).toEqual(["empty settled at 0"])
    const batch = puts.batch()
    const p = put(1, 10)
    puts.put(ctx, batch, { ...p, payload: { share: 0, chunks: [...p.payload.chunks, frameChunk(1, 1, new Uint8Array([1, 2, 3]))] } })
    const bytes = p.payload.chunks[0]!.length + frameChunk(1, 1, new Uint8Array([1, 2, 3])).length
    expect(ctx.take().map((s) => [s.dst, s.bytes, s.message])).toMatchObject([[10, bytes, { _tag: "BlockPut", key: 1, acked: true }]])
  })

  it("a job given up on forgets its puts: an acknowledgement after that changes nothing", () => {
    const { ctx, puts, log, watch, put } = setup()
    const batch = puts.batch()
    puts.put(ctx, batch, put(1, 10))
    watch("job", batch)
    ctx.advanceTo(PUT_ATTEMPTS * PUT_TIMEOUT_SECONDS)
    expect(log).toEqual(["job abandoned 1@10", `job settled at ${PUT_ATTEMPTS * PUT_TIMEOUT_SECONDS}`])
    expect([ctx.counters.get("putRetries"), ctx.counters.get("putsAbandoned"), puts.awaiting]).toEqual([PUT_ATTEMPTS - 1, 1, 0])
    puts.onAck(1, 10)
    ctx.settle()
    expect(log).toHaveLength(2)
  })
})

describe("health by heartbeats", () => {
  it("a satellite answers a ping; the writer's view marks one down only after the timeout, and back up on its pong", () => {
    const sat = satellite({ capacityBytes: 1 << 20, beaconIntervalSeconds: 1, islBandwidthBitsPerSecond: 8000 })
    const sctx = new FakeContext()
    sctx.self = 7
    deliver(sat, sat.init(7), sctx, "Ping", {}, { origin: 100 })
    expect(sctx.of("Pong").map((s) => s.dst)).toEqual([100])

    const view = new HealthView()
    const ctx = new FakeContext()
    ctx.self = 100
    view.ping(ctx, [7, 8])
    expect(ctx.of("Ping").map((s) => s.dst)).toEqual([7, 8])
    ctx.now = 0.2
    view.heard(7, ctx.now)
    // 8 has not answered, but the timeout has not passed: still up.
    expect([7, 8].map(view.at(HEALTH_TIMEOUT_SECONDS - 0.01))).toEqual([true, true])
    // Pinged again each epoch, the unanswered one keeps its first ping's time.
    ctx.now = 1
    view.ping(ctx, [7, 8])
    view.heard(7, ctx.now)
    expect([7, 8].map(view.at(HEALTH_TIMEOUT_SECONDS))).toEqual([true, false])
    view.heard(8, ctx.now)
    expect(view.at(10)(8)).toBe(true)
    // Never asked: taken to be up.
    expect(view.at(10)(9)).toBe(true)
  })

  it("shares move only to satellites that answered within the timeout and are not suspected since", () => {
    const view = new HealthView()
    view.heard(7, 0.2)
    // Never asked, never answered: up in the view, but not a satellite to move shares to.
    expect([view.at(1)(9), view.answeredAt(1)(9)]).toEqual([true, false])
    expect(view.answeredAt(0.2 + HEALTH_TIMEOUT_SECONDS - 0.01)(7)).toBe(true)
    // An answer too old no longer counts, though nothing says the satellite is down.
    expect(view.answeredAt(0.2 + HEALTH_TIMEOUT_SECONDS)(7)).toBe(false)
    expect(view.at(0.2 + HEALTH_TIMEOUT_SECONDS)(7)).toBe(true)
    // A put it never acknowledged: down at once, though it answered a moment ago.
    view.suspect(7, 0.5)
    expect([view.at(0.5)(7), view.answeredAt(0.5)(7)]).toEqual([false, false])
  })
})

describe("handover (followHandover)", () => {
  // The fake places S shares on centre, centre + 1, ...; user 0 is served by satellite 10 unless a test moves it.
  const setup = (written: Array<[number, Array<number>]>) => {
    const ctx = new FakeContext()
    ctx.self = 100
    ctx.serving.set(0, 10)
    return { ctx, state: { centre: 10, written: new Map<number, ReadonlyArray<number>>(written) } }
  }
  const orders = (ctx: FakeContext) => ctx.of("MigrateOrder").map((s) => [s.dst, s.message.target, ctx.rowsOf(s.message.manifest)])

  it("when the writer's satellite changes, each leaving server sends its shares of every block to one entering server, as one order", () => {
    const { ctx, state } = setup([[1, [10, 11, 12]], [2, [10, 11, 12]]])
    ctx.serving.set(0, 12)
    followHandover(state, ctx, 0, 3)
    // Rows [key, share, keep, 0]: 12 stays; 10 and 11 hand over to 13 and 14.
    expect(orders(ctx)).toEqual([[10, 13, [[1, 0, 0, 0], [2, 0, 0, 0]]], [11, 14, [[1, 1, 0, 0], [2, 1, 0, 0]]]])
    expect([...state.written.values()]).toEqual([[13, 14, 12], [13, 14, 12]])
    expect(state.centre).toBe(12)
    // Nothing moved since: nothing to do.
    ctx.take()
    followHandover(state, ctx, 0, 3)
    expect(ctx.take()).toEqual([])
  })

  it("more shares between one pair of satellites than a train holds go as several orders, each of at most a train's", () => {
    const blocks = MAX_TRAIN_SHARES + 44
    const { ctx, state } = setup(Array.from({ length: blocks }, (_, key) => [key, [10, 11, 12]]))
    ctx.serving.set(0, 11)
    followHandover(state, ctx, 0, 3)
    // 10 hands share 0 of every block to 13, in key order: a full train, then the rest.
    const trains = ctx.of("MigrateOrder").map((o) => {
      const rows = ctx.rowsOf(o.message.manifest)!
      return [o.dst, o.message.target, rows.length, rows[0]![0]]
    })
    expect(trains).toEqual([[10, 13, MAX_TRAIN_SHARES, 0], [10, 13, 44, MAX_TRAIN_SHARES]])
  })

  it("a share on a satellite that is down is copied from a live copy of the same share; with none left it is lost", () => {
    // Two shares, three copies: position p holds share p mod 2; 10 and 12 (two copies of share 0) are down.
    // Block 2 sits on live satellites away from the placement: with the writer where it was, it stays.
    const { ctx, state } = setup([[1, [10, 11, 12, 13, 14, 15]], [2, [11, 13, 14, 15, 18, 19]]])
    const down = new Set([10, 12])
    followHandover(state, ctx, 0, 2, 3, (s) => !down.has(s))
    expect(orders(ctx)).toEqual([[14, 16, [[1, 0, 1, 0]]], [14, 17, [[1, 2, 1, 0]]]])
    expect(state.written.get(1)).toEqual([16, 11, 17, 13, 14, 15])
    expect(state.written.get(2)).toEqual([11, 13, 14, 15, 18, 19])
    expect([ctx.counters.get("sharesReplaced"), ctx.counters.get("sharesLost")]).toEqual([2, undefined])
    // Every copy of share 0 on a satellite that is down: nothing to copy from.
    ctx.take()
    const lost = setup([[1, [10, 11, 12, 13, 14, 15]]])
    const gone = new Set([10, 12, 14])
    followHandover(lost.state, lost.ctx, 0, 2, 3, (s) => !gone.has(s))
    expect(orders(lost.ctx)).toEqual([])
    expect([lost.ctx.counters.get("sharesReplaced"), lost.ctx.counters.get("sharesLost")]).toEqual([undefined, 3])
  })

  it("a copy is ordered before its source's own move; with too few live satellites around, nothing moves", () => {
    // One share, two copies; the writer moves to 12 while 10 is down: 11 copies its share to 12, then moves to 13.
    const { ctx, state } = setup([[1, [10, 11]]])
    ctx.serving.set(0, 12)
    followHandover(state, ctx, 0, 1, 2, (s) => s !== 10)
    expect(orders(ctx)).toEqual([[11, 12, [[1, 0, 1, 0]]], [11, 13, [[1, 1, 0, 0]]]])
    expect(state.written.get(1)).toEqual([12, 13])
    // Two shares, one copy, and every satellite from 10 to 13 but 11 down: no placement to move to.
    const few = setup([[1, [10, 11]]])
    followHandover(few.state, few.ctx, 0, 2, 1, (s) => s === 11 || s > 13)
    expect(few.ctx.take()).toEqual([])
    expect([few.state.written.get(1), [...few.ctx.counters]]).toEqual([[10, 11], []])
  })

  it("an empty share (past the chunks the block has) is not copied when its satellite goes down", () => {
    // Three shares, two copies, only share 0 holds chunks; 11 (share 1) and 13 (share 0's second copy) are down.
    const { ctx, state } = setup([[1, [10, 11, 12, 13, 14, 15]]])
    const down = new Set([11, 13])
    followHandover(state, ctx, 0, 3, 2, (s) => !down.has(s), undefined, () => 1)
    expect(orders(ctx)).toEqual([[10, 17, [[1, 3, 1, 0]]]])
    expect(ctx.counters.get("sharesReplaced")).toBe(1)
    expect(state.written.get(1)).toEqual([10, 16, 12, 17, 14, 15])
  })

  it("with heartbeats, shares wait until every new satellite has answered: the others are pinged and asked again next epoch", () => {
    const { ctx, state } = setup([[1, [10, 11, 12]]])
    ctx.serving.set(0, 12)
    const answered = new Set([12, 13])
    const pinged: Array<ReadonlyArray<number>> = []
    const probe = { answered: (s: number) => answered.has(s), ping: (sats: ReadonlyArray<number>) => void pinged.push(sats) }
    followHandover(state, ctx, 0, 3, 1, (s) => s !== 99, probe)
    expect(pinged).toEqual([[14]])
    expect(orders(ctx)).toEqual([])
    expect([state.written.get(1), state.centre]).toEqual([[10, 11, 12], 10])
    answered.add(14)
    followHandover(state, ctx, 0, 3, 1, (s) => s !== 99, probe)
    expect(orders(ctx)).toEqual([[10, 13, [[1, 0, 0, 0]]], [11, 14, [[1, 1, 0, 0]]]])
    expect(state.centre).toBe(12)
  })
})
