import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { baselineServers, boxAround, jumpHash, migrate } from "../src/cache/placement.js"
import { type CentredStrategy, strategyNamed } from "../src/cache/strategies.js"
import { conversationsOf, oracleHitRate, parseTrace, TraceError } from "../src/cache/trace.js"
import { readTrace } from "../src/actors/trace-file.js"
import { Constellation, plusGrid, preset, walkerDelta } from "../src/topology/index.js"

const c = Constellation.make(preset("starlink-shell1"))
const g = plusGrid(c)
/** A built-in centred strategy's servers around `centre`. */
const serverSatellites = (name: string, _c: unknown, _g: unknown, centre: number, servers: number) =>
  (strategyNamed(name) as CentredStrategy).around({ constellation: c, graph: g }, centre, servers)

describe("placement on the physical constellation", () => {
  it("rotation fills the box slot first; hop starts with the centre and its four neighbours in the paper's order", () => {
    const centre = Constellation.satelliteAt(c, 0, 10, 5)
    const rot = serverSatellites("rotation", c, g, centre, 9)
    expect(rot[0]).toBe(Constellation.satelliteAt(c, 0, 9, 4))
    expect(rot[1]).toBe(Constellation.satelliteAt(c, 0, 9, 5))
    expect(rot[3]).toBe(Constellation.satelliteAt(c, 0, 10, 4))
    // Fewer servers than the box holds: its first ones in that order.
    expect(serverSatellites("rotation", c, g, centre, 8)).toEqual(rot.slice(0, 8))
    const hop = serverSatellites("hop", c, g, centre, 5)
    expect(hop).toEqual([centre, Constellation.satelliteAt(c, 0, 9, 5), Constellation.satelliteAt(c, 0, 10, 6), Constellation.satelliteAt(c, 0, 11, 5), Constellation.satelliteAt(c, 0, 10, 4)])
  })

  it("refuses a box wider than the shell's planes or its slots, and fills one exactly as wide", () => {
    const boxOn = (planes: number, satsPerPlane: number) => {
      const small = Constellation.make([walkerDelta({ planes, satsPerPlane, altitudeKm: 550, inclinationDeg: 53, phasing: 1 })])
      return () => boxAround(small, plusGrid(small), 0, 4)
    }
    expect(new Set(boxOn(4, 4)()).size).toBe(16)
    expect(boxOn(3, 8)).toThrow(/a 4 x 4 box does not fit shell .* \(3 x 8\)/)
    expect(boxOn(8, 3)).toThrow(/a 4 x 4 box does not fit shell .* \(8 x 3\)/)
  })

  it("is a pure function, servers are distinct, hop_rotation stays in the box", () => {
    fc.assert(fc.property(fc.nat(c.size - 1), fc.integer({ min: 1, max: 81 }), (centre, S) => {
      for (const strategy of ["rotation", "hop", "hop_rotation"] as const) {
        const a = serverSatellites(strategy, c, g, centre, S)
        expect(serverSatellites(strategy, c, g, centre, S)).toEqual(a)
        expect(new Set(a).size).toBe(S)
      }
      const box = new Set(boxAround(c, g, centre, Math.ceil(Math.sqrt(S))))
      expect(box.size).toBe(Math.ceil(Math.sqrt(S)) ** 2)
      for (const s of serverSatellites("hop_rotation", c, g, centre, S)) expect(box.has(s)).toBe(true)
    }), { numRuns: 100 })
  })

  it("baseline spreads shares over the whole constellation, consistently, never two of a block together", () => {
    const hits = new Uint32Array(c.size)
    for (let b = 0; b < 2000; b++) {
      const servers = baselineServers(c.size, b * 7919, 16)
      expect(new Set(servers).size).toBe(16)
      expect(baselineServers(c.size, b * 7919, 16)).toEqual(servers)
      for (const s of servers) hits[s]!++
    }
    const used = hits.filter((h) => h > 0).length
    expect(used).toBeGreaterThan(c.size * 0.99)
    // Jump hash: growing from n to n+1 buckets moves about 1/(n+1) of the keys, never between old buckets.
    let moved = 0
    for (let k = 0n; k < 5000n; k++) {
      const a = jumpHash(k, 100), b = jumpHash(k, 101)
      if (a !== b) {
        moved++
        expect(b).toBe(100)
      }
    }
    expect(moved).toBeGreaterThan(20)
    expect(moved).toBeLessThan(80)
    // Lamping and Veach's algorithm itself: the buckets their published code gives for these keys (the
    // values other implementations pin in their tests, ClickHouse's jumpConsistentHash among them).
    const known: Array<[bigint, number, number]> = [[1n, 1, 0], [42n, 57, 43], [256n, 1024, 520], [3735883980n, 666, 361], [16045690984833335023n, 255, 237], [2016238256797177309n, 11, 3]]
    expect(known.map(([key, buckets]) => jumpHash(key, buckets))).toEqual(known.map(([, , bucket]) => bucket))
    // Never more shares than satellites to put them on (the search for a free one would not end).
    expect(() => baselineServers(5, 1, 6)).toThrow(/^cannot place 6 shares on 5 distinct satellites$/)
    expect(new Set(baselineServers(5, 1, 5)).size).toBe(5)
  })

  it("migration: every server keeps exactly one home, no chunk is lost, a one-slot shift of a full rotation box moves one column", () => {
    fc.assert(fc.property(fc.nat(c.size - 1), fc.constantFrom(9, 25, 49, 81), fc.array(fc.integer({ min: -2, max: 2 }), { maxLength: 8 }), (start, S, steps) => {
      let centre = start
      let assignment = serverSatellites("rotation", c, g, centre, S)
      for (const step of steps) {
        const next = Constellation.satelliteAt(c, 0, c.planeOf[centre]!, c.slotOf[centre]! + step)
        const target = serverSatellites("rotation", c, g, next, S)
        const m = migrate(assignment, target)
        // One home per server, and the homes are exactly the new placement's satellites.
        expect(new Set(m.assignment).size).toBe(S)
        expect(new Set(m.assignment)).toEqual(new Set(target))
        // Away from the seam (where the box's rows are sheared by the phasing) one slot moves one column.
        const seam = (x: number) => c.planeOf[x]! + Math.ceil(Math.sqrt(S)) > 72 || c.planeOf[x]! < Math.ceil(Math.sqrt(S))
        if (Math.abs(step) === 1 && !seam(centre)) expect(m.moves).toHaveLength(Math.sqrt(S))
        if (step === 0) expect(m.moves).toHaveLength(0)
        for (const mv of m.moves) expect(assignment[mv.server]).toBe(mv.from)
        assignment = [...m.assignment]
        centre = next
      }
    }), { numRuns: 100 })
  })
})

describe("traces", () => {
  it("the oracle of the conversation trace is the README's 0.3664, the synthetic one's 0.6396", () => {
    const conv = readTrace("data/traces/mooncake-conversation.jsonl.gz")
    expect(conv.requests).toHaveLength(12_031)
    expect(oracleHitRate(conv.requests).hitRate).toBeCloseTo(0.3664, 4)
    expect(oracleHitRate(readTrace("data/traces/mooncake-synthetic.jsonl.gz").requests).hitRate).toBeCloseTo(0.6396, 4)
    const convs = conversationsOf(conv.requests)
    expect(Math.max(...convs) + 1).toBeGreaterThan(100)
    expect(Math.max(...convs) + 1).toBeLessThan(12_031)
  })

  it("a malformed line names the file and the line; lenient mode skips and counts", () => {
    const text = '{"timestamp": 0, "input_length": 5, "output_length": 1, "hash_ids": [0]}\nnot json\n{"timestamp": 1, "input_length": 5, "output_length": 1, "hash_ids": [-3]}\n'
    expect(() => parseTrace(text, "t.jsonl")).toThrow(TraceError)
    expect(() => parseTrace(text, "t.jsonl")).toThrow(/t\.jsonl:2: not valid JSON/)
    const lenient = parseTrace(text, "t.jsonl", { lenient: true })
    expect(lenient.requests).toHaveLength(1)
    expect(lenient.skipped.map((e) => e.line)).toEqual([2, 3])
    // The bad element is named by its index.
    expect(lenient.skipped[1]!.message).toBe("t.jsonl:3: field hash_ids.0: Expected a value greater than or equal to 0")
  })
})
