/**
 * The routing-tree cache: the trees of one link state by root, the oldest dropped first once `max` are
 * held; it must answer as the Map it replaced did (insertion order, re-setting a root keeps its place).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TreeCache } from "../src/actors/network/tree-cache.js"

describe("the routing-tree cache", () => {
  it("holds what a Map with oldest-first eviction holds, under any sets, gets and clears", () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ get: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ clear: fc.constant(true) })
    )
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
      const cache = new TreeCache<string>(10, max)
      const reference = new Map<number, string>()
      let n = 0
      for (const o of ops) {
        if ("set" in o) {
          const tree = `tree ${n++}`
          if (!reference.has(o.set) && reference.size >= max) reference.delete(reference.keys().next().value!)
          reference.set(o.set, tree)
          cache.set(o.set, tree)
        } else if ("get" in o) {
          expect(cache.get(o.get)).toBe(reference.get(o.get))
        } else {
          reference.clear()
          cache.clear()
        }
        expect(cache.size).toBe(reference.size)
      }
      for (let root = 0; root < 10; root++) expect(cache.get(root)).toBe(reference.get(root))
    }), { numRuns: 300 })
  })
})
