import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { uniform } from "./support/uniform.js"
import {
  Catalog, Constellation, defaultIslRules, gridHops, type IslGraph, EARTH_RADIUS_KM, handovers, kepler, linkStates, linkWindows, makeSnapshot,
  orbitalPeriodSeconds, plusGrid, preset, propagationSeconds, servingAt, type ShortestPaths, SPEED_OF_LIGHT_KM_S, sgp4FromConstellation,
  sgp4FromSatrecs, servingSatellite, ServingIndex, TopologyError, visibleSatellites, walkerDelta, walkerStar, type Window,
  elevationDeg, highestSatellite, type Shell, stationEcef, stationInertial, subSatellitePoint
} from "../src/topology/index.js"
import { degreesLong, ecfToEci, eciToGeodetic } from "satellite.js"

const isUpIn = (windows: ReadonlyArray<Window>, t: number): boolean => windows.some(([a, b]) => t >= a && t < b)

/** The best path of a pass to target, walked back along prev: its satellites and links in travel order. */
const bestPath = (sp: ShortestPaths, target: number) => {
  const satellites: Array<number> = [], links: Array<number> = []
  if (!Number.isFinite(sp.delay[target]!)) return { satellites, links }
  for (let v = target; v !== -1; v = sp.prev[v]!) {
    satellites.push(v)
    if (sp.prevLink[v]! !== -1) links.push(sp.prevLink[v]!)
  }
  return { satellites: satellites.reverse(), links: links.reverse() }
}

const slantRangeKm = (altKm: number, elevDeg: number) => {
  const R = EARTH_RADIUS_KM, e = (elevDeg * Math.PI) / 180
  return Math.sqrt((R + altKm) ** 2 - (R * Math.cos(e)) ** 2) - R * Math.sin(e)
}

/** Bound on SGP4 vs Kepler over an hour for paper-19x5 (measured worst case 22.6 km at 1 h). */
const SGP4_KEPLER_KM = 30

describe("published physics", () => {
  it("orbital period at 550 km: 5,730 s (mean radius), 5,739 s (equatorial)", () => {
    expect(orbitalPeriodSeconds(550)).toBeCloseTo(5730, -0.5)
    expect(Math.round(orbitalPeriodSeconds(550))).toBe(5730)
    expect(Math.round(orbitalPeriodSeconds(550, 6378.137))).toBe(5739)
  })

  it("zenith one-way delay to 550 km is 1.835 ms, and equals the served range / c", () => {
    expect(propagationSeconds(550) * 1e3).toBeCloseTo(1.835, 3)
    // A satellite straight overhead, by geometry rather than formula.
    const c = Constellation.make([walkerDelta({ planes: 1, satsPerPlane: 1, altitudeKm: 550, inclinationDeg: 0 })])
    const s = servingAt(kepler(c), { latDeg: 0, lonDeg: 0 }, 0)
    expect(s.elevationDeg).toBeCloseTo(90, 6)
    expect((s.rangeKm / SPEED_OF_LIGHT_KM_S) * 1e3).toBeCloseTo(1.835, 3)
  })

  it("slant range at 25 deg elevation from 550 km is about 1,123 km, and the visibility edge sits there", () => {
    expect(slantRangeKm(550, 25)).toBeCloseTo(1123, -1)
    // Move one equatorial satellite across the sky: the first position at >= 25 deg has range ~1,123 km.
    const c = Constellation.make([walkerDelta({ planes: 1, satsPerPlane: 1, altitudeKm: 550, inclinationDeg: 0, raan0Deg: 0 })])
    const eph = kepler(c)
    const pos = new Float64Array(3)
    let edgeRange = Number.NaN
    for (let t = -900; t <= 0; t += 0.01) {
      eph.positionsAt(t, pos)
      // The station held at inertial longitude 0 while the Earth turns under it.
      const v = visibleSatellites({ latDeg: 0, lonDeg: (-eph.earthRotationAngleAt(t) * 180) / Math.PI }, pos, 1, eph.earthRotationAngleAt(t))
      if (v.serving === 0) { edgeRange = v.rangesKm[0]!; break }
    }
    expect(edgeRange).toBeGreaterThan(1115)
    expect(edgeRange).toBeLessThan(1125)
  })

  it("in-plane neighbour distance with 22 per plane at 550 km is about 1,970 km", () => {
    const snap = makeSnapshot(Constellation.make(preset("starlink-shell1"))).update(0)
    const l = snap.graph.neighbourLink[4 * 0 + 1]!
    expect(snap.graph.linkKind[l]).toBe(0)
    expect(snap.lengthKm[l]).toBeGreaterThan(1965)
    expect(snap.lengthKm[l]).toBeLessThan(1975)
  })
})

describe("presets", () => {
  it("have the published sizes", () => {
    expect(Constellation.make(preset("paper-19x5")).size).toBe(95)
    expect(Constellation.make(preset("starlink-shell1")).size).toBe(1584)
    expect(Constellation.make(preset("starlink-phase1")).size).toBe(4408)
    expect(Constellation.make(preset("kuiper-shell1")).size).toBe(1156)
    expect(Constellation.make(preset("mega-10k")).size).toBe(10000)
  })

  it("unknown preset and bad shells raise a TopologyError naming the field", () => {
    expect(() => preset("nope")).toThrow(TopologyError)
    expect(() => preset("nope")).toThrow(/unknown preset "nope"/)
    expect(() => Constellation.make([walkerDelta({ planes: 0, satsPerPlane: 3, altitudeKm: 550, inclinationDeg: 53 })])).toThrow(/shells\[0\]\.planes/)
    expect(() => Constellation.make([walkerDelta({ planes: 3, satsPerPlane: 3, altitudeKm: -5, inclinationDeg: 53 })])).toThrow(/altitudeKm/)
    // Each field at its limits is a shell; one step past names the field.
    const base = { planes: 4, satsPerPlane: 3, altitudeKm: 550, inclinationDeg: 53, phasing: 0 }
    const limits: ReadonlyArray<[Partial<Shell>, Partial<Shell>, string]> = [
      [{ phasing: 3 }, { phasing: 4 }, "phasing"],
      [{ altitudeKm: 100 }, { altitudeKm: 99.9 }, "altitudeKm"],
      [{ altitudeKm: 50_000 }, { altitudeKm: 50_000.1 }, "altitudeKm"],
      [{ inclinationDeg: 0 }, { inclinationDeg: -0.1 }, "inclinationDeg"],
      [{ inclinationDeg: 180 }, { inclinationDeg: 180.1 }, "inclinationDeg"],
      [{ raanSpreadDeg: 360 }, { raanSpreadDeg: 360.1 }, "raanSpreadDeg"],
      [{ raanSpreadDeg: 1e-9 }, { raanSpreadDeg: 0 }, "raanSpreadDeg"],
      [{ raan0Deg: -720 }, { raan0Deg: Number.POSITIVE_INFINITY }, "raan0Deg"],
      [{ raan0Deg: 0 }, { raan0Deg: Number.NaN }, "raan0Deg"]
    ]
    for (const [ok, bad, field] of limits) {
      expect(Constellation.make([{ ...walkerDelta(base), ...ok }]).size).toBe(12)
      expect(() => Constellation.make([{ ...walkerDelta(base), ...bad }])).toThrow(new RegExp(`shells\\[0\\]\\.${field}`))
    }
  })

  it("numbers satellites shell by shell, plane by plane, slot by slot; planes spread evenly over the RAAN span; plane and slot taken round both ways", () => {
    const shells = [
      walkerDelta({ planes: 6, satsPerPlane: 4, altitudeKm: 550, inclinationDeg: 53, phasing: 1 }),
      walkerStar({ planes: 3, satsPerPlane: 5, altitudeKm: 780, inclinationDeg: 86.4, phasing: 0 }),
      walkerDelta({ planes: 2, satsPerPlane: 3, altitudeKm: 1200, inclinationDeg: 60, phasing: 0, raan0Deg: 10, raanSpreadDeg: 90 })
    ]
    const c = Constellation.make(shells)
    expect([...c.shellStart]).toEqual([0, 24, 39, 45])
    expect([...c.shellPlaneStart]).toEqual([0, 6, 9, 11])
    for (let i = 0; i < c.size; i++) {
      const k = c.shellOf[i]!
      expect(Constellation.satelliteAt(c, k, c.planeOf[i]!, c.slotOf[i]!)).toBe(i)
      const g = Constellation.globalPlaneOf(c, i)
      expect(c.planeStart[g]! <= i && i < c.planeStart[g + 1]!).toBe(true)
      // RAAN: raan0 + plane x spread / planes (delta 360, star 180).
      const s = shells[k]!
      expect(c.raanRad[i]! / (Math.PI / 180)).toBeCloseTo(s.raan0Deg + (c.planeOf[i]! * s.raanSpreadDeg) / s.planes, 9)
    }
    // The star's three planes over 180 deg; the third shell's two from 10 deg over 90.
    expect(Array.from({ length: 5 }, (_, p) => Math.round(c.raanRad[c.planeStart[6 + p]!]! / (Math.PI / 180)))).toEqual([0, 60, 120, 10, 55])
    // Walker phasing F = 1 unless given (0 for a single plane, where F must be below 1).
    expect([walkerDelta({ planes: 4, satsPerPlane: 3, altitudeKm: 550, inclinationDeg: 53 }).phasing, walkerDelta({ planes: 1, satsPerPlane: 3, altitudeKm: 550, inclinationDeg: 53 }).phasing]).toEqual([1, 0])
    // Plane -1 is the shell's last plane and slot -1 the plane's last slot, in any shell.
    expect(Constellation.satelliteAt(c, 1, -1, -1)).toBe(Constellation.satelliteAt(c, 1, 2, 4))
    expect(Constellation.satelliteAt(c, 1, 3 + 1, 5 + 2)).toBe(Constellation.satelliteAt(c, 1, 1, 2))
    expect(Constellation.satelliteAt(c, 2, -3, 0)).toBe(Constellation.satelliteAt(c, 2, 1, 0))
  })

  it("starlink-shell1 covers every point between 53 S and 53 N at 25 deg over one period", () => {
    const c = Constellation.make(preset("starlink-shell1"))
    const eph = kepler(c)
    const pos = new Float64Array(3 * c.size)
    const period = orbitalPeriodSeconds(550)
    let worst = Number.POSITIVE_INFINITY
    for (let t = 0; t < period; t += period / 24) {
      eph.positionsAt(t, pos)
      const theta = eph.earthRotationAngleAt(t)
      for (let lat = -53; lat <= 53; lat += 2) {
        for (let lon = -180; lon < 180; lon += 3) {
          const v = visibleSatellites({ latDeg: lat, lonDeg: lon }, pos, c.size, theta, 25)
          worst = Math.min(worst, v.satellites.length)
          if (v.satellites.length === 0) throw new Error(`no coverage at ${lat},${lon} t=${t}`)
        }
      }
    }
    expect(worst).toBeGreaterThanOrEqual(1)
  })
})

describe("ISLs", () => {
  it("+Grid: delta wraps the seam (4 links each), star cuts it", () => {
    const d = plusGrid(Constellation.make([walkerDelta({ planes: 6, satsPerPlane: 8, altitudeKm: 780, inclinationDeg: 86.4, phasing: 2 })]))
    expect(d.linkCount).toBe(2 * 48)
    const s = plusGrid(Constellation.make([walkerStar({ planes: 6, satsPerPlane: 11, altitudeKm: 780, inclinationDeg: 86.4 })]))
    expect(s.linkCount).toBe(66 + 5 * 11)
    // Seam satellites of a star shell have no "next plane" neighbour.
    expect(s.neighbours[4 * (5 * 11) + 3]).toBe(-1)
  })

  it("the seam: 'auto' wraps only planes all the way around, 'wrap' and 'cut' force either; a plane of two has one ring link", () => {
    const shell = { planes: 6, satsPerPlane: 8, altitudeKm: 780, inclinationDeg: 86.4, phasing: 0 }
    const links = (s: Shell, seam: "auto" | "wrap" | "cut") =>
      plusGrid(Constellation.make([s]), { ...defaultIslRules, seam }).linkCount
    // A patch of six adjacent planes of a larger shell (120 deg of RAAN): open unless forced.
    const patch = walkerDelta({ ...shell, raanSpreadDeg: 120 })
    expect([links(patch, "auto"), links(patch, "wrap"), links(patch, "cut")]).toEqual([48 + 40, 96, 48 + 40])
    expect([links(walkerDelta(shell), "auto"), links(walkerDelta(shell), "cut")]).toEqual([96, 48 + 40])
    expect(links(walkerStar(shell), "wrap")).toBe(96)
    // Three planes of two: one link in each plane, two across each of the three plane pairs; of one: none in a plane.
    expect(links(walkerDelta({ ...shell, planes: 3, satsPerPlane: 2 }), "auto")).toBe(3 + 3 * 2)
    expect(links(walkerDelta({ ...shell, planes: 3, satsPerPlane: 1 }), "auto")).toBe(3)
  })

  it("gridHops is the +Grid hop count on unphased shells, round the seam only where the grid closes it, symmetric, and infinite across shells", () => {
    /** Breadth-first over the grid's links: the exact hop count from `from` to every satellite. */
    const bfs = (g: IslGraph, from: number) => {
      const hops = new Int32Array(g.size).fill(-1)
      hops[from] = 0
      const queue = [from]
      for (let h = 0; h < queue.length; h++) {
        for (let k = 0; k < 4; k++) {
          const n = g.neighbours[4 * queue[h]! + k]!
          if (n < 0 || hops[n]! >= 0) continue
          hops[n] = hops[queue[h]!]! + 1
          queue.push(n)
        }
      }
      return hops
    }
    const shell = { planes: 6, satsPerPlane: 8, altitudeKm: 780, inclinationDeg: 86.4, phasing: 0 }
    // A delta shell (seam closed), the paper's patch of 5 planes and a star (seam open), and the delta
    // shell with its seam cut, or a star's forced shut.
    const cases = [
      [walkerDelta(shell), defaultIslRules],
      [preset("paper-19x5")[0]!, defaultIslRules],
      [walkerStar(shell), defaultIslRules],
      [walkerDelta(shell), { ...defaultIslRules, seam: "cut" }],
      [walkerStar(shell), { ...defaultIslRules, seam: "wrap" }]
    ] as const
    for (const [s, rules] of cases) {
      const c = Constellation.make([s])
      const g = plusGrid(c, rules)
      for (let from = 0; from < c.size; from++) {
        const hops = bfs(g, from)
        for (let to = 0; to < c.size; to++) expect([s.name, rules.seam, from, to, gridHops(c, g, from, to)]).toEqual([s.name, rules.seam, from, to, hops[to]])
      }
    }
    const two = Constellation.make([...preset("paper-19x5"), walkerDelta({ planes: 4, satsPerPlane: 4, altitudeKm: 1200, inclinationDeg: 60, phasing: 0 })])
    const g = plusGrid(two)
    // Plane 0 slot 0 to plane 4 slot 3 of the patch: four planes and three slots, not one plane round a seam it lacks.
    expect([gridHops(two, g, 0, 3), gridHops(two, g, 0, 4 * 19 + 3)]).toEqual([3, 7])
    expect(gridHops(two, g, 0, two.size - 1)).toBe(Number.POSITIVE_INFINITY)
  })

  it("seam links of a phased delta shell join near neighbours", () => {
    const c = Constellation.make(preset("starlink-shell1"))
    const snap = makeSnapshot(c).update(0)
    let seamMax = 0, interMax = 0
    for (let l = 0; l < snap.graph.linkCount; l++) {
      if (snap.graph.linkKind[l] !== 1) continue
      const seam = c.planeOf[snap.graph.linkA[l]!] === 71
      if (seam) seamMax = Math.max(seamMax, snap.lengthKm[l]!)
      else interMax = Math.max(interMax, snap.lengthKm[l]!)
    }
    expect(seamMax).toBeLessThan(interMax * 1.5)
  })

  it("polar cut-off and 80 km line-of-sight rule turn links down", () => {
    const c = Constellation.make([walkerDelta({ planes: 12, satsPerPlane: 12, altitudeKm: 550, inclinationDeg: 90 })])
    const snap = makeSnapshot(c, { rules: { ...defaultIslRules, polarCutoffLatDeg: 60 } }).update(0)
    for (let l = 0; l < snap.graph.linkCount; l++) {
      const a = snap.graph.linkA[l]!, b = snap.graph.linkB[l]!
      const lat = (i: number) => Math.abs(Math.asin(snap.positions[3 * i + 2]! / c.radiusKm[i]!) * 180 / Math.PI)
      if (snap.graph.linkKind[l] === 1 && (lat(a) > 60 || lat(b) > 60)) expect(snap.up[l]).toBe(0)
      if (snap.graph.linkKind[l] === 0) expect(snap.up[l]).toBe(1)
    }
    // Three satellites per plane at 550 km: 120 deg apart, the chord passes 3,460 km from the Earth's
    // centre. Down by line of sight alone (the chord's 11,988 km would also be out of the default range).
    const sparse = Constellation.make([walkerDelta({ planes: 1, satsPerPlane: 3, altitudeKm: 550, inclinationDeg: 53 })])
    expect(makeSnapshot(sparse, { rules: { ...defaultIslRules, maxRangeKm: 1e6 } }).update(0).linksUp).toBe(0)
    expect(makeSnapshot(sparse, { rules: { ...defaultIslRules, maxRangeKm: 1e6, minLineOfSightAltitudeKm: -6000 } }).update(0).linksUp).toBe(3)
  })

  it("line of sight is judged on the segment between the two satellites, not the line through them", () => {
    // Two satellites over one point, 150 and 500 km up: the line through them passes the Earth's centre,
    // the segment stays 150 km up. Either end first.
    const g = plusGrid(Constellation.make([walkerDelta({ planes: 1, satsPerPlane: 3, altitudeKm: 550, inclinationDeg: 53 })]))
    const up = new Uint8Array(g.linkCount), len = new Float64Array(g.linkCount)
    for (const [ra, rb] of [[150, 500], [500, 150]]) {
      const pos = new Float64Array(9)
      pos[3 * g.linkA[0]!] = EARTH_RADIUS_KM + ra!
      pos[3 * g.linkB[0]!] = EARTH_RADIUS_KM + rb!
      linkStates(g, defaultIslRules, pos, up, len)
      expect([ra, rb, up[0], len[0]]).toEqual([ra, rb, 1, 350])
    }
  })

  it("a link longer than the terminals' range is down though its line of sight is clear", () => {
    // Ten a plane at 550 km: neighbours 36 deg apart, 4,277 km, the chord 211 km above the ground at its lowest.
    const ring = Constellation.make([walkerDelta({ planes: 1, satsPerPlane: 10, altitudeKm: 550, inclinationDeg: 53 })])
    const at = (maxRangeKm: number) => makeSnapshot(ring, { rules: { ...defaultIslRules, maxRangeKm } }).update(0)
    expect(at(5_000).linksUp).toBe(10)
    expect(at(5_000).lengthKm[0]).toBeCloseTo(2 * (EARTH_RADIUS_KM + 550) * Math.sin(Math.PI / 10), 6)
    expect(at(4_200).linksUp).toBe(0)
  })

  it("link windows agree with the instantaneous link state, and close where the state changes", () => {
    const c = Constellation.make([walkerDelta({ planes: 8, satsPerPlane: 10, altitudeKm: 700, inclinationDeg: 85, phasing: 1 })])
    const snap = makeSnapshot(c)
    // The default tolerance (1 ms) is what the checks below at 2 ms assume.
    const w = linkWindows(snap, 0, 3000, { stepSeconds: 20 })
    let transitions = 0
    for (let t = 7.3; t < 3000; t += 97.1) {
      snap.update(t)
      for (let l = 0; l < snap.graph.linkCount; l++) expect(isUpIn(w[l]!, t)).toBe(snap.up[l] === 1)
    }
    w.forEach((ws, l) => {
      for (const [a, b] of ws) {
        expect(b).toBeGreaterThanOrEqual(a)
        // A window holds its start and not its end: the state there is already the new one.
        if (a > 0) {
          transitions++
          expect(snap.update(a - 2e-3).up[l]).toBe(0)
          expect(snap.update(a).up[l]).toBe(1)
        }
        if (b < 3000) {
          transitions++
          expect(snap.update(b - 2e-3).up[l]).toBe(1)
          expect(snap.update(b).up[l]).toBe(0)
        }
      }
    })
    expect(transitions).toBeGreaterThan(0)
    // A span that ends between two samples, just before a link goes down: the window ends with the span.
    const l = w.findIndex((ws) => ws.some(([, b]) => b < 3000 && b % 20 > 1))
    const down = w[l]!.find(([, b]) => b < 3000 && b % 20 > 1)![1]
    const cut = linkWindows(snap, 0, down - 0.5, { stepSeconds: 20 })
    expect(cut[l]!.at(-1)![1]).toBe(down - 0.5)
    expect(Math.max(...cut.flatMap((ws) => ws.map(([, b]) => b)))).toBe(down - 0.5)
    expect(linkWindows(snap, 5, 5).length).toBe(snap.graph.linkCount)
    expect(() => linkWindows(snap, 5, 4)).toThrow(TopologyError)
  })
})

describe("ground", () => {
  it("handovers: each reported change is a real change of the serving satellite", () => {
    const c = Constellation.make(preset("starlink-shell1"))
    const eph = kepler(c)
    const user = { latDeg: 40, lonDeg: -3.7 }
    const hs = handovers(eph, user, 0, 1200, { stepSeconds: 5, toleranceSeconds: 0.01 })
    // A satellite stays highest in the sky for a few minutes at most.
    expect(hs.length).toBeGreaterThan(3)
    for (const h of hs) {
      expect(servingAt(eph, user, h.t - 0.02).serving).toBe(h.from)
      expect(servingAt(eph, user, h.t + 0.001).serving).toBe(h.to)
    }
    // However long the step, every change a half-second scan sees is reported (two in one step too), at
    // the default 10 ms, and none past the span's end.
    const end = 1195.3
    const long = handovers(eph, user, 0, end, { stepSeconds: 60 })
    const seen: Array<{ t: number; from: number; to: number }> = []
    for (let t = 0.5, prev = servingAt(eph, user, 0).serving; t <= end; t += 0.5) {
      const now = servingAt(eph, user, t).serving
      if (now !== prev) seen.push({ t, from: prev, to: now })
      prev = now
    }
    expect(long.map((h) => [h.from, h.to])).toEqual(seen.map((h) => [h.from, h.to]))
    long.forEach((h, i) => {
      expect(h.t).toBeLessThanOrEqual(seen[i]!.t)
      expect(h.t).toBeGreaterThan(seen[i]!.t - 0.5)
      expect(servingAt(eph, user, h.t - 0.02).serving).toBe(h.from)
    })
    const after = handovers(eph, user, 0, long[long.length - 1]!.t - 0.3, { stepSeconds: 60 })
    expect(after.length).toBe(long.length - 1)
    // servingAt reports the serving satellite's own elevation: the highest of those visible.
    const pos = new Float64Array(3 * c.size)
    eph.positionsAt(100, pos)
    const v = visibleSatellites(user, pos, c.size, eph.earthRotationAngleAt(100))
    expect(v.satellites.length).toBeGreaterThan(1)
    expect(servingAt(eph, user, 100)).toEqual({ serving: v.serving, elevationDeg: Math.max(...v.elevationsDeg), rangeKm: v.rangesKm[0], visible: v.satellites.length })
  })

  it("the highest satellite over a station, below the horizon too, is visibleSatellites' at a -90 deg mask", () => {
    const c = Constellation.make(preset("paper-19x5"))
    const eph = kepler(c)
    const pos = new Float64Array(3 * c.size)
    let below = 0
    for (const t of [0, 777, 4321]) {
      eph.positionsAt(t, pos)
      const theta = eph.earthRotationAngleAt(t)
      for (let lat = -80; lat <= 80; lat += 20) for (let lon = -170; lon < 180; lon += 40) {
        const v = visibleSatellites({ latDeg: lat, lonDeg: lon }, pos, c.size, theta, -90)
        expect(highestSatellite({ latDeg: lat, lonDeg: lon }, pos, c.size, theta)).toBe(v.serving)
        if (v.elevationsDeg[0]! < 0) below++
      }
    }
    expect(below).toBeGreaterThan(0)
  })

  it("the Earth turns east: stations and sub-satellite points in satellite.js's Earth-fixed frame", () => {
    const c = Constellation.make(preset("paper-19x5"))
    const eph = sgp4FromConstellation(c)
    const pos = new Float64Array(3 * c.size)
    const near = (a: number, b: number, digits: number) => expect(a).toBeCloseTo(b, digits)
    for (const t of [0, 1234.5, 5000]) {
      eph.positionsAt(t, pos)
      const theta = eph.earthRotationAngleAt(t)
      for (const g of [{ latDeg: 40, lonDeg: -3.7, altitudeKm: 0.7 }, { latDeg: -33.9, lonDeg: 151.2 }]) {
        const ecef = stationEcef(g)
        expect(Math.hypot(...ecef)).toBeCloseTo(EARTH_RADIUS_KM + (g.altitudeKm ?? 0), 9)
        const eci = ecfToEci({ x: ecef[0], y: ecef[1], z: ecef[2] }, theta)
        const [x, y, z] = stationInertial(g, theta)
        near(x, eci.x, 9); near(y, eci.y, 9); near(z, eci.z, 9)
      }
      for (let s = 0; s < c.size; s += 7) {
        const p = subSatellitePoint(pos, s, theta)
        const geo = eciToGeodetic({ x: pos[3 * s]!, y: pos[3 * s + 1]!, z: pos[3 * s + 2]! }, theta)
        const dLon = ((p.lonDeg - degreesLong(geo.longitude) + 540) % 360) - 180
        near(dLon, 0, 9)
        expect(p.lonDeg).toBeGreaterThanOrEqual(-180)
        expect(p.lonDeg).toBeLessThan(180)
        // A station under the satellite sees it at the zenith.
        const o = stationInertial({ latDeg: p.latDeg, lonDeg: p.lonDeg }, theta)
        near(elevationDeg(o, pos[3 * s]!, pos[3 * s + 1]!, pos[3 * s + 2]!), 90, 4)
      }
    }
  })

  it("SGP4 (satellite.js) of a Walker shell stays within tens of km of the Kepler orbit over an hour", () => {
    const c = Constellation.make(preset("paper-19x5"))
    const k = kepler(c), s = sgp4FromConstellation(c)
    const a = new Float64Array(3 * c.size), b = new Float64Array(3 * c.size)
    let worst = 0
    for (const t of [0, 600, 3600]) {
      k.positionsAt(t, a)
      s.positionsAt(t, b)
      for (let i = 0; i < c.size; i++) {
        const rb = Math.hypot(b[3 * i]!, b[3 * i + 1]!, b[3 * i + 2]!)
        expect(Math.abs(rb - c.radiusKm[i]!)).toBeLessThan(25)
        // The same satellite, not just the same altitude: SGP4's position against Kepler's.
        const apart = Math.hypot(b[3 * i]! - a[3 * i]!, b[3 * i + 1]! - a[3 * i + 1]!, b[3 * i + 2]! - a[3 * i + 2]!)
        expect(apart).toBeLessThan(SGP4_KEPLER_KM)
        worst = Math.max(worst, apart)
      }
    }
    // Not the same model: J2 and drag move SGP4 away from the two-body orbit by some km within the hour.
    expect(worst).toBeGreaterThan(0.1)
  })

  it("SGP4 from a real TLE (ISS) gives a 400-430 km altitude; a bad TLE is named", () => {
    const { records } = Catalog.parseTle([
      "1 25544U 98067A   24001.50000000  .00016717  00000-0  30306-3 0  9999",
      "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.49815315432730"
    ].join("\n"), "iss.tle")
    expect(records).toHaveLength(1)
    const iss = sgp4FromSatrecs(records.map((r) => r.satrec), new Date("2024-01-01T12:00:00Z"))
    const p = new Float64Array(3)
    iss.positionsAt(0, p)
    const alt = Math.hypot(p[0]!, p[1]!, p[2]!) - EARTH_RADIUS_KM
    expect(alt).toBeGreaterThan(400)
    expect(alt).toBeLessThan(430)
    const bad = Catalog.parseTle("garbage\n2 x", "bad.tle")
    expect(bad.records).toHaveLength(0)
    expect(bad.invalid[0]).toMatchObject({ file: "bad.tle", line: 1 })
  })
})

const smallShell = fc.record({
  planes: fc.integer({ min: 3, max: 12 }),
  satsPerPlane: fc.integer({ min: 4, max: 16 }),
  altitudeKm: fc.integer({ min: 400, max: 1500 }),
  inclinationDeg: fc.double({ min: 30, max: 98, noNaN: true }),
  phasing: fc.nat(2),
  star: fc.boolean(),
  t: uniform(0, 20_000)
})

describe("properties", () => {
  it("links are symmetric: each satellite's neighbour lists each other", () => {
    fc.assert(fc.property(smallShell, (p) => {
      const c = Constellation.make([(p.star ? walkerStar : walkerDelta)({ ...p, phasing: p.phasing % p.planes })])
      const g = plusGrid(c)
      for (let l = 0; l < g.linkCount; l++) {
        const a = g.linkA[l]!, b = g.linkB[l]!
        const peersA = Array.from(g.adjPeer.subarray(g.adjStart[a]!, g.adjStart[a + 1]!))
        const peersB = Array.from(g.adjPeer.subarray(g.adjStart[b]!, g.adjStart[b + 1]!))
        if (!peersA.includes(b) || !peersB.includes(a)) return false
      }
      return true
    }), { numRuns: 40 })
  })

  it("routes: never faster than light, only up links, triangle inequality, deterministic", () => {
    fc.assert(fc.property(smallShell, fc.nat(), fc.nat(), fc.nat(), (p, x, y, z) => {
      const c = Constellation.make([(p.star ? walkerStar : walkerDelta)({ ...p, phasing: p.phasing % p.planes })])
      const snap = makeSnapshot(c).update(p.t)
      const [a, b, m] = [x % c.size, y % c.size, z % c.size]
      const fromA = snap.routeFrom(a)
      const dAB = fromA.delay[b]!, dAM = fromA.delay[m]!
      const { satellites: path, links } = bestPath(fromA, b)
      if (Number.isFinite(dAB)) {
        const straight = Math.hypot(snap.positions[3 * a]! - snap.positions[3 * b]!, snap.positions[3 * a + 1]! - snap.positions[3 * b + 1]!, snap.positions[3 * a + 2]! - snap.positions[3 * b + 2]!)
        expect(dAB + 1e-12).toBeGreaterThanOrEqual(straight / SPEED_OF_LIGHT_KM_S)
        for (const l of links) expect(snap.up[l]).toBe(1)
        expect(path[0]).toBe(a)
        expect(path.at(-1)).toBe(b)
        const sum = links.reduce((s, l) => s + snap.linkDelay[l]!, 0)
        expect(sum).toBeCloseTo(dAB, 12)
      }
      const fromM = Float64Array.from(snap.routeFrom(m).delay)
      if (Number.isFinite(dAM) && Number.isFinite(fromM[b]!)) expect(dAB).toBeLessThanOrEqual(dAM + fromM[b]! + 1e-12)
      const again = makeSnapshot(c).update(p.t).routeFrom(a)
      expect(Array.from(again.prev)).toEqual(Array.from(snap.routeFrom(a).prev))
    }), { numRuns: 60 })
  })

  it("a tree grown only as far as asked agrees with the whole tree on everything it reached, asked in any order", () => {
    fc.assert(fc.property(smallShell, fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (p, x, asks) => {
      const c = Constellation.make([(p.star ? walkerStar : walkerDelta)({ ...p, phasing: p.phasing % p.planes })])
      const snap = makeSnapshot(c).update(p.t)
      const source = x % c.size
      const whole = snap.routeFrom(source)
      const [prev, prevLink, delay] = [Int32Array.from(whole.prev), Int32Array.from(whole.prevLink), Float64Array.from(whole.delay)]
      const tree = snap.growFrom(source)
      for (const ask of asks) {
        const v = ask % c.size
        tree.reach(v)
        // v and every satellite on its path to the source: the whole tree's entries.
        for (let u = v; u !== -1; u = tree.prev[u]!) {
          expect([tree.prev[u], tree.prevLink[u]]).toEqual([prev[u], prevLink[u]])
          if (!Number.isFinite(delay[u]!)) break
        }
      }
      tree.complete()
      expect([Array.from(tree.prev), Array.from(tree.prevLink)]).toEqual([Array.from(prev), Array.from(prevLink)])
    }), { numRuns: 60 })
  })

  it("link state is a pure function of (constellation, rules, t): no trace of earlier states or of the output buffers", () => {
    fc.assert(fc.property(smallShell, uniform(0, 20_000), (p, other) => {
      const c = Constellation.make([walkerDelta({ ...p, phasing: p.phasing % p.planes })])
      const g = plusGrid(c)
      const at = (t: number) => {
        const pos = new Float64Array(3 * c.size)
        kepler(c).positionsAt(t, pos)
        return pos
      }
      // Fresh buffers at t, against buffers that first held another time's state and then garbage.
      const u1 = new Uint8Array(g.linkCount), l1 = new Float64Array(g.linkCount)
      linkStates(g, defaultIslRules, at(p.t), u1, l1)
      const u2 = new Uint8Array(g.linkCount), l2 = new Float64Array(g.linkCount)
      linkStates(g, defaultIslRules, at(other), u2, l2)
      u2.fill(7)
      l2.fill(Number.NaN)
      linkStates(g, defaultIslRules, at(p.t), u2, l2)
      expect(u2).toEqual(u1)
      expect(l2).toEqual(l1)
      // And a snapshot moved through other times lands on the same state at t.
      const snap = makeSnapshot(c)
      snap.update(other)
      snap.update(p.t)
      expect(Uint8Array.from(snap.up)).toEqual(u1)
    }), { numRuns: 30 })
  })
})

describe("serving index", () => {
  it("gives servingSatellite's answer for any station, time, mask and constellation (fast-check)", () => {
    const cs = ["starlink-shell1", "paper-19x5", "kuiper-shell1", "starlink-phase1"].map((p) => Constellation.make(preset(p)))
    let found = 0
    fc.assert(fc.property(
      fc.integer({ min: 0, max: cs.length - 1 }), uniform(0, 86_400), fc.constantFrom(-90, 0, 10, 25, 40),
      // Stations anywhere on the globe (many beyond a shell's reach: their answer, -1, is checked too).
      fc.array(fc.record({ latDeg: uniform(-90, 90), lonDeg: uniform(-180, 180), altitudeKm: uniform(0, 3) }), { minLength: 40, maxLength: 60 }),
      (k, t, mask, stations) => {
        const c = cs[k]!
        const eph = kepler(c)
        const pos = new Float64Array(3 * c.size)
        eph.positionsAt(t, pos)
        const theta = eph.earthRotationAngleAt(t)
        const index = new ServingIndex(pos, c.size, mask)
        for (const g of stations) {
          const want = servingSatellite(g, pos, c.size, theta, mask)
          expect(index.servingOf(g, theta)).toBe(want)
          if (want >= 0) found++
        }
      }
    ), { numRuns: 200 })
    // Not passing on empty answers: most stations see a satellite.
    expect(found).toBeGreaterThan(1000)
  })

  it("within one shell's satellites (from..to), and with ties to the lower index (fast-check)", () => {
    const c = Constellation.make(preset("starlink-shell1"))
    const eph = kepler(c)
    const one = new Float64Array(3 * c.size)
    // Every satellite twice (i and size + i at one place): each answer ties with its copy.
    const twice = new Float64Array(6 * c.size)
    fc.assert(fc.property(
      uniform(0, 86_400), fc.constantFrom(0, 25), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.record({ latDeg: uniform(-60, 60), lonDeg: uniform(-180, 180), altitudeKm: uniform(0, 3) }), { minLength: 20, maxLength: 30 }),
      (t, mask, a, b, stations) => {
        eph.positionsAt(t, one)
        twice.set(one)
        twice.set(one, 3 * c.size)
        const theta = eph.earthRotationAngleAt(t)
        const size = 2 * c.size
        const from = Math.floor(a * size)
        const to = from + Math.ceil(b * (size - from))
        const index = new ServingIndex(twice, size, mask)
        for (const g of stations) {
          expect(index.servingOf(g, theta, from, to)).toBe(servingSatellite(g, twice, to, theta, mask, from))
          const whole = index.servingOf(g, theta)
          expect(whole).toBe(servingSatellite(g, one, c.size, theta, mask))
        }
      }
    ), { numRuns: 60 })
  })
})
