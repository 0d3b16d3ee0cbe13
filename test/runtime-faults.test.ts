import { makeWorld } from "../src/actors/world.js"
import { describe, expect, it } from "vitest"
import { ConfigError, makeRunConfig, RunFailed, runInProcess, runOnWorkers } from "../src/actors/index.js"
import { runEach } from "../src/actors/run.js"
import { RunOfSweepFailed } from "../src/runtime/run-pool.js"
import { Tag } from "../src/actors/protocol.js"
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { Faults } from "../src/runtime/faults.js"
import { ActorStream, actorStreamRng } from "../src/runtime/random.js"
import { LiveEngine } from "../src/runtime/live.js"
import { MailboxOverflow, Mailboxes } from "../src/runtime/mailbox.js"
import { F } from "../src/runtime/record.js"
import { InjectedShardCrash } from "../src/runtime/loop.js"
import { SideChannel, SideChannelOverflow } from "../src/runtime/side-channel.js"
import { ConstellationKvCache } from "../src/actors/constellation-kv.js"

describe("supervision and failing workers", () => {
  it("an actor that fails restarts by its policy, the event is recorded, and nothing is lost", async () => {
    const base = makeRunConfig({ simSeconds: 5, users: 8, requestRatePerUser: 5 })
    const clean = await runInProcess(base, 2)
    // Satellite 10 fails on its 3rd delivery; satellites restart with an empty store.
    const crashed = await runInProcess({ ...base, crashActor: 10, crashAtMessage: 3 }, 2)
    expect(clean.supervisionCount).toBe(0)
    expect(crashed.supervisionCount).toBe(1)
    expect(crashed.supervision[0]).toMatchObject({ actor: 10, action: "restart" })
    expect(crashed.supervision[0]!.reason).toMatch(/injected crash at message 3/)
    expect(crashed.delivered + crashed.droppedTotal + crashed.inFlight).toBe(crashed.sent)
    // The restarted satellite keeps beaconing: the run goes on to the end with as many beacons.
    expect(crashed.deliveredByTag.Beacon).toBe(clean.deliveredByTag.Beacon)
  })

  it("a worker that throws ends the run with a clear error naming the shard, without hanging", async () => {
    const config = makeRunConfig({ simSeconds: 30, crashShard: 1, crashShardAt: 2 })
    const t0 = performance.now()
    const err = await runOnWorkers(config, { workers: 2 }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(RunFailed)
    expect((err as RunFailed).shard).toBe(1)
    expect((err as Error).message).toMatch(/shard 1 failed: injected crash of shard 1 at t = 2/)
    expect(performance.now() - t0).toBeLessThan(30_000)
  }, 60_000)

  // A run short enough to end before its worker reads its next message used to close the control port
  // before the reply to start() went out, and the main thread waited for that reply forever.
  it("a run that ends at once, or a shard that fails at once, still ends the run (no lost control reply)", async () => {
    const tiny = makeRunConfig({ simSeconds: 2, users: 4 })
    const hashes = new Set<string>()
    for (let i = 0; i < 5; i++) {
      const r = await runOnWorkers(tiny, { workers: 2 })
      expect(r.delivered).toBeGreaterThan(0)
      hashes.add(r.traceHash)
    }
    expect(hashes.size).toBe(1)
    const err = await runOnWorkers(makeRunConfig({ simSeconds: 30, crashShard: 0, crashShardAt: 0 }), { workers: 2 }).then(() => undefined, (e: unknown) => e)
    expect((err as Error).message).toMatch(/shard 0 failed: injected crash of shard 0 at t = 0/)
  }, 20_000)

  it("a sweep's runs come back in the configs' order, each as run alone; a failing run is named by its index", async () => {
    const configs = [1, 2, 3].map((seed) => makeRunConfig({ simSeconds: 2, users: 4, seed }))
    const done: Array<number> = []
    const reports = await runEach(configs, { workers: 2, onDone: (i) => done.push(i) })
    const alone = await Promise.all(configs.map((c) => runInProcess(c, 1)))
    expect(reports.map((r) => r.traceHash)).toEqual(alone.map((r) => r.traceHash))
    expect(new Set(alone.map((r) => r.traceHash)).size).toBe(3)
    expect(done.sort()).toEqual([0, 1, 2])
    const err = await runEach([configs[0]!, { ...configs[0]!, preset: "nope" }], { workers: 2 }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(RunOfSweepFailed)
    expect((err as RunOfSweepFailed).index).toBe(1)
    expect((err as Error).message).toMatch(/^run 1 of the sweep failed: .*unknown preset "nope"/)
    await expect(runEach(configs, { workers: 0 })).rejects.toThrow(/workers must be an integer >= 1, got 0/)
  }, 30_000)

  it("in-process, a failing shard surfaces its error", async () => {
    await expect(runInProcess(makeRunConfig({ simSeconds: 5, crashShard: 0, crashShardAt: 1 }), 2)).rejects.toBeInstanceOf(InjectedShardCrash)
  })
})

describe("run config validation", () => {
  it("names the bad field", () => {
    expect(() => makeRunConfig({ simSeconds: -1 })).toThrow(ConfigError)
    expect(() => makeRunConfig({ simSeconds: -1 })).toThrow(/simSeconds/)
    expect(() => makeRunConfig({ users: 1.5 })).toThrow(/users/)
    expect(() => makeRunConfig({ bogus: 1 } as never)).toThrow(/unknown config field "bogus"/)
  })

  it("takes every bounded field at its limits and names it, nested or not, one step past", () => {
    const d = makeRunConfig()
    type Patch = Record<string, unknown>
    const inference = (p: Patch) => ({ inference: { ...d.inference, ...p } })
    const replay = (p: Patch) => ({ replay: { ...d.replay, ...p } })
    // [the field as an error names it, a patch at a limit, the patch one step past]
    const limits: ReadonlyArray<[string, Patch, Patch]> = [
      ["redundancy", { redundancy: 1 }, { redundancy: 0 }],
      ["redundancy", { redundancy: 8 }, { redundancy: 9 }],
      ["inference.bitErrorRate", inference({ bitErrorRate: 0.01 }), inference({ bitErrorRate: 0.0101 })],
      ["inference.bitErrorRate", inference({ bitErrorRate: 0 }), inference({ bitErrorRate: -1e-9 })],
      ["inference.sideChannelBytes", inference({ sideChannelBytes: 1024 }), inference({ sideChannelBytes: 1023 })],
      ["inference.authKeyHex", inference({ authKeyHex: "00ff" }), inference({ authKeyHex: "0ff" })],
      ["inferenceSite.latDeg", { inferenceSite: { latDeg: -90, lonDeg: 0 } }, { inferenceSite: { latDeg: -90.1, lonDeg: 0 } }],
      ["keysPerUser", { keysPerUser: 1 }, { keysPerUser: 0 }],
      ["putFraction", { putFraction: 1 }, { putFraction: 1.01 }],
      ["chunkBytes", { chunkBytes: 1 }, { chunkBytes: 0 }],
      ["satelliteMailboxMessages", { satelliteMailboxMessages: 1 }, { satelliteMailboxMessages: 0 }],
      ["clientMaxInFlight", { clientMaxInFlight: 1 }, { clientMaxInFlight: 0 }],
      ["islFlapProbability", { islFlapProbability: 1 }, { islFlapProbability: 1.01 }],
      ["elevationMaskDeg", { elevationMaskDeg: 90 }, { elevationMaskDeg: 90.1 }],
      ["elevationMaskDeg", { elevationMaskDeg: 0 }, { elevationMaskDeg: -0.1 }],
      ["maxHops", { maxHops: 1 }, { maxHops: 0 }],
      ["mailboxCapacity", { mailboxCapacity: 16 }, { mailboxCapacity: 15 }],
      ["epochSeconds", { epochSeconds: 1e-3 }, { epochSeconds: 0 }],
      ["replay.servers", replay({ servers: 255 }), replay({ servers: 256 })],
      ["replay.servers", replay({ servers: 1 }), replay({ servers: 0 })],
      ["replay.blockTokens", replay({ blockTokens: 1 }), replay({ blockTokens: 0 })],
      ["replay.rateScale", replay({ rateScale: 1e-3 }), replay({ rateScale: 0 })]
    ]
    for (const [field, ok, bad] of limits) {
      expect(() => makeRunConfig(ok as never)).not.toThrow()
      // A nested field is named itself, not its parent.
      expect(() => makeRunConfig(bad as never)).toThrow(`config.${field}: `)
    }
    expect(() => makeRunConfig({ shells: [{ planes: 3 }] } as never)).toThrow("config.shells.0.pattern: Missing key")
  })

  it("an unknown preset is a clear error", async () => {
    await expect(runInProcess(makeRunConfig({ preset: "nope" }), 1)).rejects.toThrow(/unknown preset "nope"/)
  })
})

describe("inference actors", () => {
  it("sit after the ground users as ground actors; any host runs them (idle without a model's jobs), the same on 1 and 2 shards", async () => {
    const world = makeWorld(makeRunConfig({ users: 5, inferenceActors: 2 }))
    expect(world.firstInference).toBe(world.satellites + 5)
    expect(world.users.length).toBe(7)
    expect(world.actorCount).toBe(world.satellites + 7)
    expect(world.kindNames[world.kinds[world.firstInference]!]).toBe("inference")
    expect(world.kindNames[world.kinds[world.firstInference - 1]!]).toBe("ground")
    const config = makeRunConfig({ simSeconds: 2, inferenceActors: 1 })
    const [one, two] = [await runInProcess(config, 1), await runInProcess(config, 2)]
    expect(two.traceHash).toBe(one.traceHash)
    expect(one.delivered).toBeGreaterThan(0)
  })
})

describe("the byte side channel and live hosts' requests", () => {
  it("frames cross by (from, to, parity) in order; a window that overflows names the setting; nothing is read twice", () => {
    const side = SideChannel.allocate(2, 64)
    side.write(0, 1, 1, Uint8Array.of(1, 2, 3))
    side.write(0, 1, 1, Uint8Array.of(4))
    const got: Array<Array<number>> = []
    side.drain(0, 1, 0, (f) => got.push([...f]))
    expect(got).toEqual([])
    side.drain(0, 1, 1, (f) => got.push([...f]))
    expect(got).toEqual([[1, 2, 3], [4]])
    side.drain(0, 1, 1, (f) => got.push([...f]))
    expect(got).toHaveLength(2)
    expect(() => side.write(1, 0, 0, new Uint8Array(61))).toThrow(SideChannelOverflow)
    expect(() => side.write(1, 0, 0, new Uint8Array(61))).toThrow(/raise the world's sideChannelBytes/)
    // A frame and its length prefix that fill the area exactly fit; one byte more does not.
    side.write(1, 0, 0, new Uint8Array(60).fill(7))
    expect(() => side.write(1, 0, 0, new Uint8Array(0))).toThrow(/needs 68 bytes in one window but holds 64/)
    side.drain(1, 0, 0, (f) => got.push([...f]))
    expect(got[2]).toEqual(new Array(60).fill(7))
    // No channel for one shard, or for a world that carries no bytes.
    expect([SideChannel.forRun(64, 1), SideChannel.forRun(0, 2), SideChannel.forRun(undefined, 2)]).toEqual([undefined, undefined, undefined])
  })

  it("record mailboxes cross by (from, to, parity), each bounded by its capacity; a run that overflows one names the setting", async () => {
    const boxes = Mailboxes.allocate(2, 3)
    for (let k = 0; k < 3; k++) {
      const [block, r] = boxes.reserve(0, 1, 0)
      block.setF(r, F.time, 10 + k)
    }
    expect(() => boxes.reserve(0, 1, 0)).toThrow(MailboxOverflow)
    expect(() => boxes.reserve(0, 1, 0)).toThrow(/mailbox 0 -> 1 overflowed its 3 records in one window \(raise mailboxCapacity\)/)
    // The other parity and the other direction are their own, and a full one's records are intact.
    boxes.reserve(0, 1, 1)[0].setF(0, F.time, 99)
    boxes.reserve(1, 0, 0)[0].setF(0, F.time, 77)
    const [block, n] = boxes.pending(0, 1, 0)
    expect([0, 1, 2].map((r) => block.getF(r, F.time))).toEqual([10, 11, 12])
    expect([n, boxes.pending(0, 1, 1)[1], boxes.pending(1, 0, 0)[1], boxes.pending(1, 1, 0)[1]]).toEqual([3, 1, 1, 0])
    boxes.clear(0, 1, 0)
    expect([boxes.pending(0, 1, 0)[1], boxes.pending(0, 1, 1)[1]]).toEqual([0, 1])
    expect(boxes.reserve(0, 1, 0)[1]).toBe(0)
    boxes.clear(0, 1, 1)
    expect([boxes.pending(0, 1, 0)[1], boxes.pending(0, 1, 1)[1]]).toEqual([1, 0])
    // Unsynchronised, an epoch is one window: 16 records cannot hold what crosses in it.
    const config = makeRunConfig({ preset: "starlink-shell1", simSeconds: 3, mailboxCapacity: 16, unsynchronised: true })
    const err = await runOnWorkers(config, { workers: 2 }).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(RunFailed)
    expect((err as Error).message).toMatch(/overflowed its 16 records in one window \(raise mailboxCapacity\)/)
  }, 60_000)

  it("a shard's world refuses a malformed host request with the field named", () => {
    const kv = ConstellationKvCache.make({ namespace: { modelId: "m", tenantSalt: "t" } })
    expect(() => kv.host.request(0, { _tag: "Lookup", actor: -1, job: 0, keys: [] })).toThrow(/actor/)
    expect(() => kv.host.request(0, { _tag: "Erase" })).toThrow()
    expect(() => kv.host.request(0, { _tag: "Store", actor: kv.actor, job: 0, keys: [1], shares: [[["not bytes"]]] })).toThrow(/shares/)
  })
})

describe("injected faults of a shard", () => {
  it("loses messages at the rate asked, each sender from its own stream; an actor is down until the time given", () => {
    const draws = 20_000
    const lossOf = (faults: Faults, sender: number) => Array.from({ length: draws }, () => faults.lost(sender))
    const alone = lossOf(new Faults(0.1, 7, 3), 0)
    // 4 standard deviations of a binomial fraction: 0.0085 at p = 0.1.
    const rate = alone.filter(Boolean).length / draws
    expect(Math.abs(rate - 0.1)).toBeLessThan(4 * Math.sqrt(0.1 * 0.9 / draws))
    // Another sender's draws in between (another shard's split of actors) change nothing of sender 0's.
    const mixed = new Faults(0.1, 7, 3)
    const interleaved = Array.from({ length: draws }, () => (mixed.lost(1), mixed.lost(0)))
    expect(interleaved).toEqual(alone)
    // A sender's losses and the bit errors of what it sends (inference-host.ts) come from two streams,
    // so a run with both faults does not lose exactly the messages it would corrupt: at 0.5 each, they
    // agree on about half the draws, not on all of them.
    const bits = actorStreamRng(7, ActorStream.bitErrors, 0)
    const agree = lossOf(new Faults(0.5, 7, 3), 0).filter((lost) => lost === uniformFloat64(bits) < 0.5).length / draws
    expect(Math.abs(agree - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / draws))
    expect(lossOf(new Faults(0, 7, 3), 0).some(Boolean)).toBe(false)
    const faults = new Faults(0, 7, 3)
    faults.down(1, 5)
    expect([faults.isDown(1, 4.9), faults.isDown(1, 5), faults.isDown(0, 4.9)]).toEqual([true, false, false])
  })

  it("a crashed satellite sends nothing while down, and its beacons resume when it is up", () => {
    const world = makeWorld(makeRunConfig({ preset: "paper-19x5", simSeconds: 12, users: 0 }))
    // When each beacon satellite 10 sent was sent (those delivered: every one, with no loss injected).
    const sentAt: Array<number> = []
    const live = new LiveEngine(world, { onDelivery: (d) => void (d.origin === 10 && d.tag === Tag.Beacon && sentAt.push(d.sentAt)) })
    live.injectFaults({ lossRate: 0, seed: 1 })
    live.advanceTo(5)
    live.crash([10], 2)
    live.advanceTo(12)
    const sentIn = (from: number, to: number) => sentAt.filter((t) => t >= from && t < to).length
    // Up, it beacons its n neighbours once a second; down from 5 to 7, nothing; up again, as before.
    const n = sentIn(0, 1)
    expect(n).toBeGreaterThanOrEqual(2)
    expect([sentIn(0, 5), sentIn(5, 7), sentIn(7, 12)]).toEqual([5 * n, 0, 5 * n])
    expect(sentAt.filter((t) => t >= 7)[0]).toBe(7)
  })
})
