/**
 * The shard's event queue: whatever the order of pushes and pops, events pop in (time, src, seq) order,
 * the total order that makes a run the same on any worker count.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { EventQueue } from "../src/runtime/event-queue.js"
import { F, I } from "../src/runtime/record.js"

describe("the event queue", () => {
  it("pops in (time, src, seq) order under any interleaving of pushes and pops, against a sorted reference", () => {
    const op = fc.oneof(
      // Few distinct times and sources, so ties on time and on (time, src) are common.
      fc.record({ push: fc.constant(true), time: fc.integer({ min: 0, max: 3 }).map((t) => t / 4), src: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ push: fc.constant(false) })
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
