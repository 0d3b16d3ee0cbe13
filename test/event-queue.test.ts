/**
 * The shard's event queue: whatever the order of pushes and pops, events pop in (time, src, seq) order,
 * the total order that makes a run the same on any worker count; a relay rewritten in place at the top
 * (replaceTop) takes its new place in that order. Its earliest-output scan (minTimePlus), which bounds
 * every PDES window, agrees with a scan of every queued event.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { EventQueue } from "../src/runtime/event-queue.js"
import { F, I } from "../src/runtime/record.js"

describe("the event queue", () => {
  it("pops in (time, src, seq) order under any interleaving of pushes, pops and re-keyed tops, against a sorted reference", () => {
    const op = fc.oneof(
      // Few distinct times and sources, so ties on time and on (time, src) are common.
      fc.record({ push: fc.constant(true), time: fc.integer({ min: 0, max: 3 }).map((t) => t / 4), src: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ push: fc.constant(false) }),
      // A relay: the earliest event moves on, later by `later` (0 included: same time, a new src and seq).
      fc.record({ relay: fc.constant(true), later: fc.integer({ min: 0, max: 2 }).map((t) => t / 4), src: fc.integer({ min: 0, max: 1 }) })
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
      const q = new EventQueue(4)
      const reference: Array<{ time: number; src: number; seq: number; slot: number }> = []
      let seq = 0
      for (const o of ops) {
        if ("time" in o) {
          const slot = q.alloc()
          q.pool.setF(slot, F.time, o.time)
          q.pool.setI(slot, I.src, o.src)
          q.pool.setI(slot, I.seq, seq)
          reference.push({ time: o.time, src: o.src, seq: seq++, slot })
          q.push(slot)
        } else if ("relay" in o) {
          if (reference.length === 0) continue
          reference.sort((a, b) => a.time - b.time || a.src - b.src || a.seq - b.seq)
          const top = reference[0]!
          expect(q.peekSlot()).toBe(top.slot)
          top.time += o.later
          top.src = o.src
          top.seq = seq++
          q.pool.setF(top.slot, F.time, top.time)
          q.pool.setI(top.slot, I.src, top.src)
          q.pool.setI(top.slot, I.seq, top.seq)
          q.replaceTop()
        } else if (reference.length > 0) {
          reference.sort((a, b) => a.time - b.time || a.src - b.src || a.seq - b.seq)
          expect(q.peekTime()).toBe(reference[0]!.time)
          const slot = q.pop()
          expect(slot).toBe(reference.shift()!.slot)
          q.release(slot)
        }
      }
      expect(q.size).toBe(reference.length)
    }), { numRuns: 300 })
  })

  it("minTimePlus is the least time + weight[at] over every queued event not ignored, whatever the heap's shape", () => {
    const actors = 6
    const event = fc.record({ time: fc.integer({ min: 0, max: 40 }).map((t) => t / 8), at: fc.integer({ min: 0, max: actors - 1 }) })
    fc.assert(fc.property(
      fc.array(event, { maxLength: 200 }),
      fc.nat(60),
      fc.array(fc.integer({ min: 0, max: 24 }).map((w) => w / 8), { minLength: actors, maxLength: actors }),
      fc.array(fc.boolean(), { minLength: actors, maxLength: actors }),
      (events, pops, weights, ignored) => {
        const q = new EventQueue(4)
        events.forEach((e, seq) => {
          const slot = q.alloc()
          q.pool.setF(slot, F.time, e.time)
          q.pool.setI(slot, I.at, e.at)
          q.pool.setI(slot, I.seq, seq)
          q.push(slot)
        })
        // Pops leave the heap in shapes pushes alone do not.
        for (let k = 0; k < pops && q.size > 0; k++) q.release(q.pop())
        const weight = Float64Array.from(weights)
        const ignore = (slot: number) => ignored[q.pool.getI(slot, I.at)]!
        const queued = [...q.slots()]
        expect(queued.length).toBe(q.size)
        const least = (skip: (slot: number) => boolean) =>
          Math.min(...queued.filter((s) => !skip(s)).map((s) => q.pool.getF(s, F.time) + weight[q.pool.getI(s, I.at)]!))
        expect(q.minTimePlus(weight)).toBe(least(() => false))
        expect(q.minTimePlus(weight, ignore)).toBe(least(ignore))
      }
    ), { numRuns: 500 })
  })

  it("reuses released slots: a steady push and pop never grows the pool", () => {
    const q = new EventQueue(4)
    for (let k = 0; k < 1000; k++) {
      for (let j = 0; j < 4; j++) {
        const slot = q.alloc()
        q.pool.setF(slot, F.time, k)
        q.push(slot)
      }
      for (let j = 0; j < 4; j++) q.release(q.pop())
    }
    expect(q.pool.capacity).toBe(4)
  })
})
