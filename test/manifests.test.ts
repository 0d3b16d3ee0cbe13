import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ENTRY, Manifests } from "../src/actors/manifests.js"
import { readSideFrame, sendToOwner, SideFrame } from "../src/actors/side-frames.js"

// A migration's list of shares rides beside its record: posted by the sender's shard, taken by the
// receiver's. Two shards here are two Manifests joined as the world joins them (a side frame each).
const twoShards = (owner: (actor: number) => number, actors: number) => {
  const shards: Array<Manifests> = []
  for (let k = 0; k < 2; k++) {
    const side = {
      send: (to: number, frame: Uint8Array) => {
        const { kind, body } = readSideFrame(frame)
        expect(kind).toBe(SideFrame.manifest)
        shards[to]!.receive(body)
      }
    }
    shards.push(new Manifests(actors, sendToOwner({ owner: Int32Array.from({ length: actors }, (_, a) => owner(a)), index: k, side }, SideFrame.manifest)))
  }
  return shards
}

describe("manifests (fast-check)", () => {
  it("the receiver's shard takes exactly what was posted, once, under the same id however actors are split", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ from: fc.nat(9), to: fc.nat(9), rows: fc.array(fc.double({ noNaN: true }), { minLength: ENTRY, maxLength: 5 * ENTRY }).map((r) => r.slice(0, r.length - (r.length % ENTRY))) }), { minLength: 1, maxLength: 30 }),
      fc.nat(9),
      (posts, cut) => {
        const split = twoShards((a) => (a < cut ? 0 : 1), 10)
        const whole = new Manifests(10)
        for (const p of posts) {
          const id = split[p.from < cut ? 0 : 1]!.post(p.from, p.to, Float64Array.from(p.rows))
          // Ids are the sender's own count: the same with one shard.
          expect(whole.post(p.from, p.to, Float64Array.from(p.rows))).toBe(id)
          const there = split[p.to < cut ? 0 : 1]!
          expect([...there.take(id)!]).toEqual(p.rows)
          expect(there.take(id)).toBeUndefined()
        }
        expect(split[0]!.size + split[1]!.size).toBe(0)
      }
    ), { numRuns: 200 })
  })

  it("refuses rows that are not whole entries, and frames that are not whole manifests", () => {
    const m = new Manifests(4)
    expect(() => m.post(0, 1, new Float64Array(ENTRY + 1))).toThrow(RangeError)
    expect(() => m.post(0, 1, new Float64Array(0))).toThrow(RangeError)
    expect(() => m.receive(new Uint8Array(8 * (ENTRY + 2)))).toThrow(RangeError)
    expect(() => readSideFrame(new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]))).toThrow(TypeError)
  })
})
