/**
 * The shard's event queue: whatever the order of pushes and pops, events pop in (time, src, seq) order,
 * the total order that makes a run the same on any worker count; a relay rewritten in place at the top
 * (replaceTop) takes its new place in that order.
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
})
