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
        // All posted before any is taken, as migrations in flight at once are: no id may stand for two.
        const ids = posts.map((p) => {
          const id = split[p.from < cut ? 0 : 1]!.post(p.from, p.to, Float64Array.from(p.rows))
          // Ids are the sender's own count: the same with one shard.
          expect(whole.post(p.from, p.to, Float64Array.from(p.rows))).toBe(id)
          return id
        })
        expect(new Set(ids).size).toBe(posts.length)
        posts.forEach((p, k) => {
          const there = split[p.to < cut ? 0 : 1]!
          expect([...there.take(ids[k]!)!]).toEqual(p.rows)
          expect(there.take(ids[k]!)).toBeUndefined()
        })
        expect(split[0]!.size + split[1]!.size).toBe(0)
      }
    ), { numRuns: 200 })
  })

  it("refuses rows that are not whole entries, and frames that are not whole manifests", () => {
    const m = new Manifests(4)
    expect(() => m.post(0, 1, new Float64Array(ENTRY + 1))).toThrow(RangeError)
    expect(() => m.post(0, 1, new Float64Array(0))).toThrow(RangeError)
    expect(() => m.receive(new Uint8Array(8 * (ENTRY + 2)))).toThrow(RangeError)
    // An id and no entries.
    expect(() => m.receive(new Uint8Array(8))).toThrow(RangeError)
  })

  it("keeps its own copy of a frame read from the side channel, wherever the frame sits in it", () => {
    const m = new Manifests(4)
    const channel = new Uint8Array(3 + 8 * (1 + ENTRY))
    channel.set(new Uint8Array(Float64Array.of(9, 1, 2, 3, 4).buffer), 3)
    m.receive(channel.subarray(3))
    // The channel's area is written over by the next window's frames.
    channel.fill(0)
    expect([...m.take(9)!]).toEqual([1, 2, 3, 4])
    expect(() => readSideFrame(new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]))).toThrow(TypeError)
  })
})
