import { describe, expect, it } from "vitest"
import { makeRunConfig, runInProcess } from "../src/actors/index.js"
import { SatelliteService } from "../src/actors/overload.js"
import { Kind } from "../src/actors/kinds.js"
import { Tag } from "../src/actors/protocol.js"
import { F, I, RecordBlock } from "../src/runtime/record.js"
import { Admit } from "../src/runtime/world.js"

/**
 * Overload: satellites with a service rate and bounded mailboxes, clients with a bound on requests in
 * flight. Nothing may vanish: every request ends served, missed or rejected with a reason, every
 * refused message is answered with a Busy, and mailboxes never exceed their bound.
 */
// The first 120 requests span 42 s of the trace (one conversation each); the first 300, 99 s.
const flood = (o: { rate: number; mailbox: number; maxInFlight: number; requests: number }) => makeRunConfig({
  preset: "starlink-shell1", seed: 3, simSeconds: (o.requests > 120 ? 100 : 43) / o.rate + 40, workload: "replay", users: 0,
  satelliteServiceBytesPerSecond: 100e6 / 8, satelliteServiceSecondsPerMessage: 20e-6,
  satelliteMailboxMessages: o.mailbox, clientMaxInFlight: o.maxInFlight,
  replay: { ...makeRunConfig().replay, requests: o.requests, strategy: "ours", rateScale: o.rate }
})

const outcomes = (c: Record<string, number>) => ({
  issued: c.issued ?? 0, served: c["outcome.served"] ?? 0, missed: c["outcome.missed"] ?? 0, rejected: c["outcome.rejected"] ?? 0,
  byMailbox: c["rejectedBy.satelliteMailbox"] ?? 0, byBacklog: c["rejectedBy.clientBacklog"] ?? 0
})

describe("overload", () => {
  it("a satellite serves one message at a time, first come first served, and refuses past a full mailbox; beacons pass at once", () => {
    const service = SatelliteService.fromConfig(makeRunConfig({ satelliteServiceSecondsPerMessage: 0.01, satelliteServiceBytesPerSecond: 1000, satelliteMailboxMessages: 2 }), 10)!
    const records = new RecordBlock(5)
    const message = (r: number, tag: number, bytes: number) => {
      records.setI(r, I.tag, tag)
      records.setI(r, I.bytes, bytes)
      records.setI(r, I.spare, 0)
      return r
    }
    // 10 ms a message and 1 ms per byte: queued back to back from t = 1.
    expect(service.arrive(records, message(0, Tag.BlockGet, 5), 3, 1)).toBe(Admit.wait)
    expect(records.getF(0, F.time)).toBeCloseTo(1.015, 12)
    expect(service.arrive(records, message(1, Tag.BlockGet, 0), 3, 1)).toBe(Admit.wait)
    expect(records.getF(1, F.time)).toBeCloseTo(1.025, 12)
    expect(service.arrive(records, message(2, Tag.BlockGet, 0), 3, 1)).toBe(Admit.refuse)
    expect(service.arrive(records, message(3, Tag.Beacon, 64), 3, 1)).toBe(Admit.deliver)
    // Another satellite's mailbox is its own.
    expect(service.arrive(records, message(4, Tag.BlockGet, 0), 4, 1)).toBe(Admit.wait)
    expect(records.getF(4, F.time)).toBeCloseTo(1.01, 12)
    // The first one's service ends: delivered, and its place in the mailbox is free again.
    expect(service.arrive(records, 0, 3, 1.015)).toBe(Admit.deliver)
    expect(service.arrive(records, message(2, Tag.BlockGet, 0), 3, 1.016)).toBe(Admit.wait)
    expect(records.getF(2, F.time)).toBeCloseTo(1.035, 12)
    expect(service.peak).toBe(2)
    // The peak is the deepest mailbox so far, not the latest one to grow.
    expect(service.arrive(records, message(4, Tag.BlockGet, 0), 5, 1.016)).toBe(Admit.wait)
    expect(service.peak).toBe(2)
    // Link-level control passes a full mailbox at once, untimed: Busy replies and migration acks too.
    for (const tag of [Tag.Busy, Tag.MigrateAck]) {
      expect(service.arrive(records, message(4, tag, 64), 3, 1.017)).toBe(Admit.deliver)
      expect(records.getI(4, I.spare)).toBe(0)
    }
    // Actors past the satellites (ground users, clients) are not satellites: no service model at all.
    expect(service.arrive(records, message(4, Tag.CacheGetReply, 4096), 10, 1.017)).toBe(Admit.deliver)
    expect(service.mayRefuse(Kind.satellite, Tag.BlockGet)).toBe(true)
    expect(service.mayRefuse(Kind.satellite, Tag.Beacon)).toBe(false)
    expect(service.mayRefuse(Kind.ground, Tag.CacheGetReply)).toBe(false)
    // Either rate alone makes a model (a bytes-only service times each message by its size); neither, none.
    const bytesOnly = SatelliteService.fromConfig(makeRunConfig({ satelliteServiceSecondsPerMessage: 0, satelliteServiceBytesPerSecond: 1000 }), 10)!
    expect(bytesOnly.arrive(records, message(0, Tag.BlockGet, 5), 3, 2)).toBe(Admit.wait)
    expect(records.getF(0, F.time)).toBeCloseTo(2.005, 12)
    expect(SatelliteService.fromConfig(makeRunConfig({ satelliteServiceSecondsPerMessage: 0, satelliteServiceBytesPerSecond: 0 }), 10)).toBeUndefined()
  })

  it("tight bounds: requests are rejected with reasons, none vanishes, every refusal is answered, mailboxes stay bounded", async () => {
    const r = await runInProcess(flood({ rate: 100, mailbox: 8, maxInFlight: 1, requests: 300 }), 2)
    const o = outcomes(r.counters)
    expect(o.issued).toBe(300)
    expect(o.served + o.missed + o.rejected).toBe(o.issued)
    expect(o.byMailbox).toBeGreaterThan(0)
    expect(o.byBacklog).toBeGreaterThan(0)
    expect(o.byMailbox + o.byBacklog).toBe(o.rejected)
    expect(r.peakMailbox).toBe(8)
    // A refused message is dropped with its reason and its sender told: one Busy per refusal.
    expect(r.dropped.mailboxFull).toBeGreaterThan(0)
    expect((r.deliveredByTag.Busy ?? 0) + r.inFlight).toBeGreaterThanOrEqual(r.dropped.mailboxFull!)
    expect(r.sent).toBe(r.delivered + r.droppedTotal + r.inFlight)
  }, 120_000)

  it("ten times the trace's rate: retrieval latency grows, memory does not run away, and the run is deterministic", async () => {
    const calm = await runInProcess(flood({ rate: 1, mailbox: 256, maxInFlight: 16, requests: 120 }), 1)
    const busy = await runInProcess(flood({ rate: 10, mailbox: 256, maxInFlight: 16, requests: 120 }), 1)
    for (const r of [calm, busy]) {
      const o = outcomes(r.counters)
      expect(o.served + o.missed + o.rejected).toBe(o.issued)
      expect(r.peakMailbox).toBeLessThanOrEqual(256)
    }
    expect(busy.retrieval.p50Ms).toBeGreaterThan(calm.retrieval.p50Ms)
    // The event queue (the emulator's memory for messages in flight) stays within a small multiple.
    expect(busy.peakQueueRecords).toBeLessThanOrEqual(4 * calm.peakQueueRecords)
    expect((await runInProcess(flood({ rate: 10, mailbox: 256, maxInFlight: 16, requests: 120 }), 3)).traceHash).toBe(busy.traceHash)
  }, 180_000)
})
