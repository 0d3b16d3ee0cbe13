import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type PaperModelParams, type PaperStrategy, paperDefaults, paperStrategies, paperSweeps, placeServers, retrievalTime,
  runPaperSweeps, sweepBase
} from "../src/cache/paper-model.js"

/**
 * An independent reference written from the paper's description, sharing no code with the model: box
 * placement by nested loops, the BFS by distance layers, chunk counts by dealing chunks one by one.
 */
const reference = (strategy: PaperStrategy, p: PaperModelParams) => {
  const P = p.planes, N = p.slotsPerPlane, S = p.servers
  const k = Math.ceil(Math.sqrt(S))
  const lo = (c: number, n: number) => (((c - Math.floor((k - 1) / 2)) % n) + n) % n
  const box: Array<[number, number]> = []
  for (let row = 0; row < k; row++) for (let col = 0; col < k; col++) box.push([(lo(p.centrePlane, P) + row) % P, (lo(p.centreSlot, N) + col) % N])
  const inBox = (a: number, b: number) => box.some(([x, y]) => x === a && y === b)
  let cells: Array<[number, number]>
  if (strategy === "rotation") cells = box.slice(0, S)
  else {
    cells = [[p.centrePlane, p.centreSlot]]
    let frontier = cells.slice()
    while (cells.length < S && frontier.length > 0) {
      const next: Array<[number, number]> = []
      for (const [a, b] of frontier) {
        for (const [c, d] of [[a - 1, b], [a, b + 1], [a + 1, b], [a, b - 1]] as Array<[number, number]>) {
          const q: [number, number] = [((c % P) + P) % P, ((d % N) + N) % N]
          if (strategy === "hop_rotation" && !inBox(q[0], q[1])) continue
          if ([...cells, ...next].some(([x, y]) => x === q[0] && y === q[1])) continue
          next.push(q)
        }
      }
      cells.push(...next)
      frontier = next
    }
    cells = cells.slice(0, S)
  }
  const R = p.earthRadiusMeters + p.altitudeMeters
  const dm = 2 * R * Math.sin(Math.PI / N)
  const dn = 2 * R * Math.sin(Math.PI / P)
  const count = new Array<number>(S).fill(0)
  const chunks = Math.ceil(p.kvcBytes / p.chunkBytes)
  for (let c = 0; c < chunks; c++) count[c % S]!++
  const times: Array<number> = []
  cells.forEach(([a, b], i) => {
    if (count[i] === 0) return
    const da = Math.min(Math.abs(a - p.centrePlane), P - Math.abs(a - p.centrePlane))
    const db = Math.min(Math.abs(b - p.centreSlot), N - Math.abs(b - p.centreSlot))
    const dist = strategy === "hop" ? da * dn + db * dm : Math.hypot(Math.hypot(da * dn, db * dm), p.altitudeMeters)
    times.push(dist / p.speedMetersPerSecond + p.chunkProcessingSeconds * count[i]!)
  })
  return { max: Math.max(...times), min: Math.min(...times), avg: times.reduce((x, y) => x + y, 0) / times.length }
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)

describe("the paper's grid model", () => {
  it("places servers as the paper says", () => {
    const p = { ...paperDefaults, servers: 9 }
    expect(placeServers("rotation", p).slice(0, 4)).toEqual([{ plane: 6, slot: 6 }, { plane: 6, slot: 7 }, { plane: 6, slot: 8 }, { plane: 7, slot: 6 }])
    expect(placeServers("hop", p).slice(0, 5)).toEqual([{ plane: 7, slot: 7 }, { plane: 6, slot: 7 }, { plane: 7, slot: 8 }, { plane: 8, slot: 7 }, { plane: 7, slot: 6 }])
    // hop_rotation stays in the 3 x 3 box: all of it, in BFS order.
    const hr = placeServers("hop_rotation", p)
    expect(new Set(hr.map((c) => `${c.plane},${c.slot}`))).toEqual(new Set(placeServers("rotation", p).map((c) => `${c.plane},${c.slot}`)))
    expect(hr[0]).toEqual({ plane: 7, slot: 7 })
  })

  it("matches hand-computed sweep-base values", () => {
    const b = sweepBase()
    const d = 2 * (6_371_000 + 1_920_000) * Math.sin(Math.PI / 15)
    // 21 MiB / 12,288 B = 1,792 chunks = 81 x 22 + 10: servers 0..9 hold 23 chunks, the rest 22.
    // hop: the 81 BFS servers reach 6 hops out (1+4+8+12+16+20 = 61 within 5); those hold 22 chunks.
    expect(retrievalTime("hop", b).maxSeconds).toBeCloseTo(0.02 * 22 + (6 * d) / 2.998e8, 12)
    // rotation: server 0 is the box corner, 4 planes and 4 slots away, and holds 23 chunks.
    expect(retrievalTime("rotation", b).maxSeconds).toBeCloseTo(0.02 * 23 + Math.hypot(4 * Math.SQRT2 * d, 1_920_000) / 2.998e8, 12)
    expect(retrievalTime("hop", b).chunks).toBe(1792)
  })

  it("every sweep row equals the independent reference to 1e-9 relative", () => {
    const rows = runPaperSweeps()
    expect(rows).toHaveLength(3 * (21 + 4 + 10 + 9))
    const b = sweepBase()
    for (const r of rows) {
      const ref = reference(r.strategy, { ...b, [r.param]: r.value })
      expect(rel(r.maxSeconds, ref.max)).toBeLessThan(1e-9)
      expect(rel(r.minSeconds, ref.min)).toBeLessThan(1e-9)
      expect(rel(r.avgSeconds, ref.avg)).toBeLessThan(1e-9)
    }
    expect(paperSweeps.altitudeMeters.at(-1)).toBe(1_920_000)
  })

  it("agrees with the reference on random grids, sizes and centres (fast-check)", () => {
    fc.assert(fc.property(
      fc.integer({ min: 3, max: 21 }), fc.integer({ min: 3, max: 21 }), fc.integer({ min: 1, max: 60 }), fc.nat(), fc.nat(),
      fc.integer({ min: 1, max: 64 * 1024 * 1024 }), fc.constantFrom(...paperStrategies),
      (P, N, S, cp, cs, kvc, strategy) => {
        const k = Math.ceil(Math.sqrt(S))
        fc.pre(S <= P * N && (strategy === "hop" || (k <= P && k <= N)))
        const p = { ...paperDefaults, planes: P, slotsPerPlane: N, servers: S, centrePlane: cp % P, centreSlot: cs % N, kvcBytes: kvc }
        const got = retrievalTime(strategy, p)
        const ref = reference(strategy, p)
        expect(rel(got.maxSeconds, ref.max)).toBeLessThan(1e-9)
        expect(rel(got.avgSeconds, ref.avg)).toBeLessThan(1e-9)
        // Placement is a pure function and every server sits on its own satellite.
        const cells = placeServers(strategy, p)
        expect(new Set(cells.map((c) => `${c.plane},${c.slot}`)).size).toBe(S)
      }
    ), { numRuns: 300 })
  })

  it("rejects a grid that cannot hold the servers, at each limit: every cell (hop), the box's side in planes and in slots", () => {
    const grid = (planes: number, slotsPerPlane: number, servers: number) => ({ ...paperDefaults, planes, slotsPerPlane, centrePlane: 0, centreSlot: 0, servers })
    expect(() => placeServers("rotation", grid(3, 3, 16))).toThrow(/cannot hold 16 servers/)
    // hop fills the whole grid, and no more.
    expect(placeServers("hop", grid(3, 3, 9))).toHaveLength(9)
    expect(() => placeServers("hop", grid(3, 3, 10))).toThrow(/a 3 x 3 grid cannot hold 10 servers with hop/)
    expect(placeServers("hop", grid(10, 3, 16))).toHaveLength(16)
    // The box strategies need a k x k box (k = 4 for 16): too few planes, or too few slots.
    for (const strategy of ["rotation", "hop_rotation"] as const) {
      expect(placeServers(strategy, grid(4, 4, 16))).toHaveLength(16)
      expect(() => placeServers(strategy, grid(3, 10, 16))).toThrow(/cannot hold 16 servers/)
      expect(() => placeServers(strategy, grid(10, 3, 16))).toThrow(/cannot hold 16 servers/)
    }
    expect(() => placeServers("hop", grid(3, 3, 0))).toThrow(/servers must be a positive integer, got 0/)
  })
})

describe("the same sweeps on the physical model", () => {
  it("agrees with the grid model within 10% where the geometry allows, and finds what it cannot", async () => {
    const { physicalRetrieval } = await import("../src/cache/physical-parity.js")
    const b = sweepBase()
    for (const s of paperStrategies) {
      const grid = retrievalTime(s, b).maxSeconds
      const phys = physicalRetrieval(s, b).maxSeconds
      // Routed paths are never shorter than the paper's straight lines by much, and not far longer.
      expect(phys / grid).toBeGreaterThan(0.95)
      expect(phys / grid).toBeLessThan(1.1)
    }
    // At 160 km, 15 satellites per plane are 24 deg apart: every ISL chord dips under 80 km, so nothing
    // beyond the centre is reachable through the mesh, which the paper's straight lines hide.
    expect(physicalRetrieval("hop", { ...b, altitudeMeters: 160_000 }).maxSeconds).toBe(Number.POSITIVE_INFINITY)
    expect(retrievalTime("hop", { ...b, altitudeMeters: 160_000 }).maxSeconds).toBeLessThan(1)
  })

  it("times a chunk from where the model runs: the centre itself on board, the zenith uplink from the ground; partial chunks count whole, servers without a chunk not at all", async () => {
    const { physicalRetrieval } = await import("../src/cache/physical-parity.js")
    const { propagationSeconds } = await import("../src/topology/index.js")
    const proc = paperDefaults.chunkProcessingSeconds
    const up = propagationSeconds(paperDefaults.altitudeMeters / 1000)
    // 2.5 chunks on 4 servers: servers 0-2 hold one chunk each (the half chunk is a chunk), server 3 none.
    const p = { ...paperDefaults, servers: 4, kvcBytes: 2.5 * paperDefaults.chunkBytes }
    const hop = physicalRetrieval("hop", p)
    // On board, server 0 is the centre: no link at all, only its chunk's processing.
    expect(hop.minSeconds).toBeCloseTo(proc, 12)
    for (const strategy of ["rotation", "hop_rotation"] as const) {
      // From the ground, the user right under the centre reaches it at zenith: altitude / c, then the mesh.
      const r = physicalRetrieval(strategy, p)
      expect(r.minSeconds).toBeCloseTo(up + proc, 9)
      // Later, with the Earth turned under the shell, the user is still found right under the centre.
      expect(physicalRetrieval(strategy, p, { inclinationDeg: 53, at: 1234 }).minSeconds).toBeCloseTo(up + proc, 9)
      expect(r.maxSeconds).toBeGreaterThan(r.minSeconds)
      expect(r.avgSeconds).toBeLessThan(r.maxSeconds)
      // Everything on the centre's satellite: min, mean and max are that one server's time.
      const one = physicalRetrieval(strategy, { ...p, servers: 1 })
      expect([one.minSeconds, one.avgSeconds, one.maxSeconds].map((t) => t / (up + 3 * proc))).toEqual([1, 1, 1].map((x) => expect.closeTo(x, 9)))
    }
    // The fourth server holds no chunk, so the figures are those of the first three alone (the same
    // satellites with S = 3); its time (only its path) would change the mean.
    const three = physicalRetrieval("hop", { ...p, servers: 3 })
    expect([hop.minSeconds, hop.avgSeconds, hop.maxSeconds]).toEqual([three.minSeconds, three.avgSeconds, three.maxSeconds])
  })

  it("is a snapshot of a shell of the inclination asked, at the instant asked: one orbit later the same times, a quarter orbit or another tilt other times", async () => {
    const { physicalDefaults, physicalRetrieval } = await import("../src/cache/physical-parity.js")
    const { orbitalPeriodSeconds } = await import("../src/topology/index.js")
    const period = orbitalPeriodSeconds(paperDefaults.altitudeMeters / 1000)
    for (const strategy of paperStrategies) {
      const at = (t: number, inclinationDeg = physicalDefaults.inclinationDeg) => physicalRetrieval(strategy, paperDefaults, { inclinationDeg, at: t }).maxSeconds
      const now = at(0)
      expect(physicalRetrieval(strategy, paperDefaults).maxSeconds).toBe(now)
      // Kepler orbits: after one period every satellite is where it was, and from the ground the user
      // under the centre (the Earth has turned) sees the same geometry.
      expect(at(period)).toBeCloseTo(now, 9)
      // A quarter orbit on, the servers' planes meet at other latitudes, closer or farther apart; so does a steeper shell.
      expect(Math.abs(at(period / 4) - now)).toBeGreaterThan(1e-6)
      expect(Math.abs(at(0, 70) - now)).toBeGreaterThan(1e-6)
    }
  })
})
