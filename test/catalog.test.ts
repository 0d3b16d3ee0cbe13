/**
 * Real catalogs in: TLE and OMM checked record by record, the structure (shells, planes, slots,
 * exclusions) inferred from generated catalogs whose answer is known, and the +Grid over irregular planes.
 */
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { uniform } from "./support/uniform.js"
import { Catalog, type Constellation, ephemerisOf, LinkKind, orbitalPeriodSeconds, plusGrid, defaultIslRules, type Shell, TopologyError, visibleSatellites, walkerDelta, walkerStar } from "../src/topology/index.js"
import { boxAround } from "../src/cache/placement.js"
import { elementProblem } from "../src/topology/catalog/record.js"
import { REFERENCE, writeCatalog } from "./support/catalog-file.js"

/** Each record's (shell, plane) group and slot order, keyed by NORAD id, from the truth and from the inference. */
const truthPlanes = (syn: Catalog.SyntheticCatalog): Map<string, Array<number>> => {
  const planes = new Map<string, Array<number>>()
  syn.truth.forEach((t, i) => {
    if (t.kind !== "operational") return
    const key = `${t.shell}/${t.plane}`
    planes.set(key, [...(planes.get(key) ?? []), syn.elements[i]!.noradId])
  })
  return planes
}

const inferredPlanes = (c: Constellation.Constellation): Map<string, Array<number>> => {
  const planes = new Map<string, Array<number>>()
  for (let i = 0; i < c.size; i++) {
    const key = `${c.shellOf[i]}/${c.planeOf[i]}`
    planes.set(key, [...(planes.get(key) ?? []), c.catalog!.noradIds[i]!])
  }
  return planes
}

/** A plane's NORAD ids rotated to start at its smallest: slot order up to where slot 0 was put. */
const canonicalRing = (ids: ReadonlyArray<number>) => {
  const k = ids.indexOf(Math.min(...ids))
  return [...ids.slice(k), ...ids.slice(0, k)].join(",")
}

const recovers = (syn: Catalog.SyntheticCatalog, c: Constellation.Constellation) => {
  const truth = [...truthPlanes(syn).values()].map(canonicalRing).sort()
  const inferred = [...inferredPlanes(c).values()].map(canonicalRing).sort()
  return { truth, inferred }
}

/** The operational satellites of one Walker shell as a catalog lists them, only those of the planes `keep` says. */
const shellElements = (shell: Shell, keep: (plane: number) => boolean = () => true) => {
  const syn = Catalog.syntheticCatalog({ shells: [shell], referenceMs: Date.parse(REFERENCE), seed: 5 })
  return syn.elements.filter((_, i) => { const t = syn.truth[i]!; return t.kind === "operational" && keep(t.plane) })
}

/** shellElements written to a TLE file and read back at REFERENCE. */
const shellConstellation = (shell: Shell, keep?: (plane: number) => boolean) => {
  const file = join(mkdtempSync(join(tmpdir(), "skymemory-shell-")), "shell.tle")
  writeFileSync(file, Catalog.toTle(shellElements(shell, keep)))
  return Catalog.readCatalog(file, { at: REFERENCE }).constellation
}

describe("catalog files", () => {
  it("a ground station's sky at an ISO instant is skyfield's: the same satellites, order, elevations and ranges", () => {
    // skyfield 1.45 (Debian bookworm's python3-skyfield), an SGP4 and frame chain independent of
    // satellite.js and of this code: each record of this file propagated from its own epoch, taken to
    // ITRS, and seen from the same spherical-Earth station (radius 6,371 km) this model uses. Satellites
    // at 20 deg or more: [name, elevation deg, range km]. (Seen from a WGS-84 station, Paris's highest is
    // at 39.61 deg, not 38.41: the documented spherical Earth, not an error of frames or times.)
    const skyfield: Array<[string, number, number, ReadonlyArray<[string, number, number]>]> = [
      ["2026-11-01T06:00:00Z", 48.85, 2.35, [["SYN-0-0-9", 38.413, 827.4], ["SYN-0-3-5", 35.676, 870.4], ["SYN-1-2-6", 25.808, 1069.5], ["SYN-0-1-8", 24.595, 1123.9], ["SYN-1-1-7", 21.807, 1193.8]]],
      ["2026-11-01T13:20:00Z", -33.9, 151.2, [["SYN-0-2-7", 36.865, 865.3], ["SYN-1-5-3", 29.335, 999.8], ["SYN-1-2-6", 22.128, 1204.6]]]
    ]
    const { path } = writeCatalog()
    for (const [at, latDeg, lonDeg, expected] of skyfield) {
      const { constellation: c } = Catalog.loadCatalog(path, { at })
      const eph = ephemerisOf(c)
      const pos = new Float64Array(3 * c.size)
      eph.positionsAt(0, pos)
      const v = visibleSatellites({ latDeg, lonDeg }, pos, c.size, eph.earthRotationAngleAt(0), 20)
      expect(v.satellites.map((s) => c.catalog!.names[s])).toEqual(expected.map((e) => e[0]))
      v.elevationsDeg.forEach((el, k) => expect(Math.abs(el - expected[k]![1])).toBeLessThan(0.02))
      v.rangesKm.forEach((r, k) => expect(Math.abs(r - expected[k]![2])).toBeLessThan(0.5))
    }
  })

  it("reads the same constellation from three-line TLE, OMM JSON and OMM CSV", () => {
    const [tle, json, csv] = (["tle", "omm-json", "omm-csv"] as const).map((f) => Catalog.readCatalog(writeCatalog(f).path, { at: REFERENCE }))
    for (const other of [json!, csv!]) {
      expect(Array.from(other.constellation.catalog!.noradIds)).toEqual(Array.from(tle!.constellation.catalog!.noradIds))
      expect(Array.from(other.constellation.planeStart)).toEqual(Array.from(tle!.constellation.planeStart))
      expect(other.summary.excluded).toEqual(tle!.summary.excluded)
    }
    expect([tle!.summary.format, json!.summary.format, csv!.summary.format]).toEqual(["tle", "omm-json", "omm-csv"])
  })

  it("refuses a corrupted checksum naming file and line; --lenient skips it and counts it", () => {
    const { path, text } = writeCatalog("tle")
    const lines = text.split("\n")
    // Line 5 (1-based) is line 1 of the second set: change one digit of its epoch.
    lines[4] = lines[4]!.slice(0, 25) + String((Number(lines[4]![25]) + 1) % 10) + lines[4]!.slice(26)
    writeFileSync(path, lines.join("\n"))
    expect(() => Catalog.readCatalog(path)).toThrow(TopologyError)
    try {
      Catalog.readCatalog(path)
    } catch (e) {
      expect((e as TopologyError).field).toBe(`${path}:4`)
      expect((e as TopologyError).message).toMatch(/checksum/)
    }
    const lenient = Catalog.readCatalog(path, { lenient: true, at: REFERENCE })
    expect(lenient.summary.excluded["invalid-record"]).toBe(1)
    expect(lenient.summary.records).toBe(text.trim().split("\n").length / 3)
    expect(lenient.summary.invalid[0]).toMatchObject({ file: path, line: 4 })
  })

  it("checks every field: a bad record is named by its line in each format", () => {
    const { path: tlePath, text } = writeCatalog("tle")
    const lines = text.split("\n")
    // Inclination 253 deg on the third set's line 2 (line 9), checksum fixed so the range check is what fails.
    const l2 = `${lines[8]!.slice(0, 8)}253.0000${lines[8]!.slice(16, 68)}`
    lines[8] = `${l2}${Catalog.tleChecksum(l2)}`
    writeFileSync(tlePath, lines.join("\n"))
    expect(() => Catalog.readCatalog(tlePath)).toThrow(/inclination 253/)
    const { path: jsonPath, text: jsonText } = writeCatalog("omm-json")
    writeFileSync(jsonPath, jsonText.replace(/"ECCENTRICITY":0\.0001/, '"ECCENTRICITY":1.5'))
    expect(() => Catalog.readCatalog(jsonPath)).toThrow(expect.objectContaining({ field: `${jsonPath}:1`, message: expect.stringMatching(/eccentricity 1.5/) }))
    const { path: csvPath, text: csvText } = writeCatalog("omm-csv")
    const rows = csvText.split("\n")
    rows[3] = rows[3]!.replace(/^([^,]*),([^,]*),[^,]*,/, "$1,$2,yesterday,")
    writeFileSync(csvPath, rows.join("\n"))
    expect(() => Catalog.readCatalog(csvPath)).toThrow(expect.objectContaining({ field: `${csvPath}:4`, message: expect.stringMatching(/EPOCH "yesterday"/) }))
    writeFileSync(csvPath, "NORAD_CAT_ID,OBJECT_NAME\n1,\"unterminated\n")
    expect(() => Catalog.readCatalog(csvPath)).toThrow(expect.objectContaining({ message: expect.stringMatching(/not valid CSV/) }))
    expect(() => Catalog.readCatalog("/no/such/catalog.tle")).toThrow(expect.objectContaining({ field: "/no/such/catalog.tle", message: "no such file" }))
  })

  it("names what a file that is no catalog is, counts every bad record, keeps 20 of them, and takes t = 0 from the newest epoch", () => {
    const dir = mkdtempSync(join(tmpdir(), "skymemory-notcat-"))
    const at = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name))
    expect(() => Catalog.readCatalog(at("bin.tle", "1 25544U\u0000\u0001"))).toThrow(/is binary, not a TLE or OMM catalog/)
    expect(() => Catalog.readCatalog(dir)).toThrow(/is a directory, not a catalog file/)
    expect(() => Catalog.readCatalog(at("empty.tle", "\n\n"))).toThrow(/no TLE sets in the file/)
    // A name line with a comma is still a TLE name, not a CSV header.
    const { text } = writeCatalog("tle")
    const named = text.split("\n")
    named[0] = "STARLINK-1007, TEST"
    expect(Catalog.readCatalog(at("comma.tle", named.join("\n")), { at: REFERENCE }).summary.format).toBe("tle")
    // 25 sets with a broken checksum: all counted, the first named, 20 kept for the summary.
    const lines = text.split("\n")
    for (let k = 0; k < 25; k++) lines[3 * k + 1] = lines[3 * k + 1]!.slice(0, 68) + String((Number(lines[3 * k + 1]![68]) + 1) % 10)
    const broken = at("broken.tle", lines.join("\n"))
    expect(() => Catalog.readCatalog(broken)).toThrow(/\(25 bad records in all; --lenient skips and counts them\)/)
    const lenient = Catalog.readCatalog(broken, { lenient: true, at: REFERENCE })
    expect([lenient.summary.excluded["invalid-record"], lenient.summary.invalid.length]).toEqual([25, 20])
    // t = 0 defaults to the newest epoch of all records, wherever it sits in the file.
    const records = Catalog.parseTle(text, "x.tle").records
    const newest = Math.max(...records.map((r) => r.epochMs))
    expect(records[0]!.epochMs).toBeLessThan(newest)
    const plain = Catalog.readCatalog(at("plain.tle", text)).summary
    expect([plain.newestEpoch, plain.at]).toEqual([new Date(newest).toISOString(), new Date(newest).toISOString()])
  })

  it("loadCatalog reads a file again once it changes, and keeps one reading per set of options", () => {
    const dir = mkdtempSync(join(tmpdir(), "skymemory-memo-"))
    const path = join(dir, "sats.tle")
    const { text } = writeCatalog("tle")
    writeFileSync(path, text)
    const first = Catalog.loadCatalog(path, { at: REFERENCE })
    expect(Catalog.loadCatalog(path, { at: REFERENCE })).toBe(first)
    expect(Catalog.loadCatalog(path, { at: "2026-11-01T06:00:00Z" }).summary.at).toBe("2026-11-01T06:00:00.000Z")
    // The same size, one set fewer in effect (its lines blanked): a new reading.
    const lines = text.split("\n")
    for (const k of [0, 1, 2]) lines[k] = " ".repeat(lines[k]!.length)
    writeFileSync(path, lines.join("\n"))
    utimesSync(path, new Date(Date.now() + 5000), new Date(Date.now() + 5000))
    expect(Catalog.loadCatalog(path, { at: REFERENCE }).summary.records).toBe(first.summary.records - 1)
  })

  it("a shell's summary gives its fewest and most satellites in a plane", () => {
    const { constellation: c, summary } = Catalog.readCatalog(writeCatalog("tle", { missingFraction: 0.3 }).path, { at: REFERENCE })
    summary.shells.forEach((sh, k) => {
      const sizes = Array.from({ length: sh.planes }, (_, p) => c.planeStart[c.shellPlaneStart[k]! + p + 1]! - c.planeStart[c.shellPlaneStart[k]! + p]!)
      expect([sh.minPerPlane, sh.maxPerPlane]).toEqual([Math.min(...sizes), Math.max(...sizes)])
      expect(sh.minPerPlane).toBeLessThan(sh.maxPerPlane)
    })
  })

  it("reads the layouts catalogs use: 3LE names with '0 ', two-line sets without names, CRLF, blank lines", () => {
    const sets = [0, 1, 2].map((k) => Catalog.formatTle({
      name: `SAT ${k}`, noradId: 45_000 + k, epochMs: Date.parse(REFERENCE), inclinationDeg: 53, raanDeg: 10 * k, eccentricity: 0.0001,
      argPerigeeDeg: 0, meanAnomalyDeg: 20 * k, meanMotionRevDay: 15.06
    }))
    const text = [`0 ${sets[0]![0]}`, sets[0]![1], sets[0]![2], "", sets[1]![1], sets[1]![2], sets[2]![0], `${sets[2]![1]}  `, sets[2]![2]].join("\r\n")
    const { records, invalid } = Catalog.parseTle(text, "mixed.tle")
    expect(invalid).toEqual([])
    expect(records.map((r) => [r.name, r.noradId, r.line])).toEqual([["SAT 0", 45_000, 1], ["45001", 45_001, 5], ["SAT 2", 45_002, 7]])
  })

  it("reads TLE as the format defines it: minus signs in the checksum, Alpha-5 numbers, one number per set, the epoch's day, lines that end early", () => {
    // The format's well-known example (the ISS, 2008): line 1's checksum counts its minus signs.
    const iss = [
      "ISS (ZARYA)",
      "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
      "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
    ]
    const parse = (lines: ReadonlyArray<string>) => Catalog.parseTle(lines.join("\n"), "t.tle")
    const one = parse(iss)
    expect(one.invalid).toEqual([])
    expect(one.records.map((r) => [r.name, r.noradId, r.inclinationDeg, r.eccentricity, r.meanMotionRevDay, r.meanMotionDot])).toEqual([["ISS (ZARYA)", 25544, 51.6416, 0.0006703, 15.72125391, -0.00002182]])
    expect(new Date(one.records[0]!.epochMs).toISOString()).toBe("2008-09-20T12:25:40.104Z")
    // Columns 3-7 replaced in both lines, checksums recomputed.
    const withNumbers = (n1: string, n2: string, lines = iss) => {
      const fix = (l: string, n: string) => {
        const body = l.slice(0, 2) + n + l.slice(7, 68)
        return body + Catalog.tleChecksum(body)
      }
      return [lines[0]!, fix(lines[1]!, n1), fix(lines[2]!, n2)]
    }
    // Alpha-5: a letter for the ten-thousands from A = 10, I and O skipped.
    for (const [field, id] of [["A0000", 100_000], ["H9999", 179_999], ["J0001", 180_001], ["N0000", 220_000], ["P0000", 230_000], ["Z9999", 339_999]] as const) {
      expect(parse(withNumbers(field, field)).records[0]?.noradId).toBe(id)
    }
    expect(parse(withNumbers("I0000", "I0000")).invalid[0]?.reason).toBe(`catalogue number "I0000" is not a number`)
    expect(parse(withNumbers("25544", "25545")).invalid[0]?.reason).toBe("catalogue numbers differ between line 1 (25544) and line 2 (25545)")
    // Day 0 of a year is no day.
    const day0 = withNumbers("25544", "25544", [iss[0]!, iss[1]!.replace("08264.51782528", "08000.51782528"), iss[2]!])
    expect(parse(day0).invalid[0]?.reason).toBe(`epoch "08000.51782528" is not YYDDD.DDDDDDDD`)
    expect(parse([iss[0]!, iss[1]!.slice(0, 68), iss[2]!]).invalid[0]?.reason).toBe("line 1 has 68 characters, expected 69")
    // A name line with no elements after it costs only itself: the next line may name the next set.
    const orphan = parse(["LOST", ...iss])
    expect(orphan.invalid).toEqual([{ file: "t.tle", line: 1, reason: `"LOST" is followed by no element line 1` }])
    expect(orphan.records.map((r) => [r.name, r.line])).toEqual([["ISS (ZARYA)", 2]])
  })

  it("checks each mean element's range at both its ends, in either format", () => {
    const ok = { noradId: 1, inclinationDeg: 0, raanDeg: 0, eccentricity: 0, argPerigeeDeg: 0, meanAnomalyDeg: 0, meanMotionRevDay: 0.5000001 }
    expect(elementProblem(ok)).toBeUndefined()
    expect(elementProblem({ ...ok, noradId: 339_999, inclinationDeg: 180, raanDeg: 359.9999, eccentricity: 0.9999999, argPerigeeDeg: 359.9999, meanAnomalyDeg: 359.9999, meanMotionRevDay: 17.9999 })).toBeUndefined()
    const out: Array<[Partial<typeof ok>, RegExp]> = [
      [{ noradId: 0 }, /^NORAD id 0: expected an integer in \[1, 339999\]$/], [{ noradId: 340_000 }, /^NORAD id 340000/], [{ noradId: 1.5 }, /^NORAD id 1.5/],
      [{ inclinationDeg: -0.0001 }, /^inclination -0.0001: expected \[0, 180\] deg$/], [{ inclinationDeg: 180.0001 }, /^inclination 180.0001/],
      [{ raanDeg: 360 }, /^right ascension of the ascending node 360: expected \[0, 360\) deg$/], [{ raanDeg: -1 }, /^right ascension/],
      [{ eccentricity: 1 }, /^eccentricity 1: expected \[0, 1\)$/], [{ eccentricity: -0.1 }, /^eccentricity -0.1/],
      [{ argPerigeeDeg: 360 }, /^argument of perigee 360/], [{ argPerigeeDeg: -1 }, /^argument of perigee -1/],
      [{ meanAnomalyDeg: 360 }, /^mean anomaly 360/], [{ meanAnomalyDeg: -1 }, /^mean anomaly -1/],
      [{ meanMotionRevDay: 0.5 }, /^mean motion 0.5: expected \(0.5, 18\) rev\/day$/], [{ meanMotionRevDay: 18 }, /^mean motion 18/],
      [{ inclinationDeg: Number.NaN }, /^inclination NaN/]
    ]
    for (const [change, reason] of out) expect(elementProblem({ ...ok, ...change })).toMatch(reason)
  })

  it("reads OMM records as published: empty optional fields are 0, blank or zoned values refused, one object alone is a catalog", () => {
    const { path, text } = writeCatalog("omm-json")
    const records = JSON.parse(text) as Array<Record<string, unknown>>
    const first = records[0]!
    const load = (changed: unknown) => {
      writeFileSync(path, JSON.stringify(changed))
      return Catalog.readCatalog(path, { at: REFERENCE })
    }
    const withFirst = (fields: Record<string, unknown>) => load([{ ...first, ...fields }, ...records.slice(1)])
    // CSV exports leave optional fields empty; the first record's name, blank, falls back to its NORAD id.
    const c = withFirst({ BSTAR: "", MEAN_MOTION_DDOT: "", OBJECT_NAME: "  " }).constellation
    expect(c.catalog!.names[[...c.catalog!.noradIds].indexOf(first.NORAD_CAT_ID as number)]).toBe(String(first.NORAD_CAT_ID))
    expect(() => withFirst({ MEAN_MOTION: "" })).toThrow(/missing MEAN_MOTION/)
    expect(() => withFirst({ MEAN_MOTION_DOT: " " })).toThrow(/MEAN_MOTION_DOT " " is not a number/)
    expect(() => withFirst({ EPOCH: `${first.EPOCH}+02:00` })).toThrow(/is not an ISO 8601 UTC instant/)
    expect(withFirst({ EPOCH: `${first.EPOCH}Z` }).summary.records).toBe(records.length)
    expect(() => load([[first], ...records.slice(1)])).toThrow(/expected an object of OMM fields/)
    // One object, not in an array: one record (too few for a shell, which is what the error says).
    expect(() => load(first)).toThrow(/no shell of at least 10 operational satellites among 1 records/)
  })

  it("writes fields at their limits in the format's columns: angles just under 360, a drag term that rounds up to the next power of ten", () => {
    const lines = Catalog.formatTle({
      name: "EDGE", noradId: 7, epochMs: Date.parse(REFERENCE), inclinationDeg: 53, raanDeg: 359.99996, eccentricity: 0.0001,
      argPerigeeDeg: 0, meanAnomalyDeg: 0, meanMotionRevDay: 15.06, bstar: 9.999996e-5
    })
    expect(lines[1]!.length).toBe(69)
    expect(lines[2]!.length).toBe(69)
    expect(lines[1]!.slice(53, 61)).toBe(" 10000-3")
    expect(lines[2]!.slice(17, 25)).toBe("  0.0000")
    const { records, invalid } = Catalog.parseTle(lines.join("\n"), "edge.tle")
    expect(invalid).toEqual([])
    expect(records[0]!.satrec.bstar).toBeCloseTo(1e-4, 12)
  })

  it("writes element lines that read back to the same elements (any valid elements)", () => {
    fc.assert(fc.property(
      fc.record({
        noradId: fc.integer({ min: 1, max: 99_999 }), inclinationDeg: uniform(0, 180), raanDeg: uniform(0, 359.9),
        eccentricity: uniform(0, 0.02), argPerigeeDeg: uniform(0, 359.9),
        meanAnomalyDeg: uniform(0, 359.9), meanMotionRevDay: fc.double({ min: 11, max: 16.4, noNaN: true }),
        meanMotionDot: uniform(-0.001, 0.001), epochMs: fc.integer({ min: Date.parse("2020-01-01"), max: Date.parse("2030-01-01") })
      }),
      (e) => {
        const lines = Catalog.formatTle({ name: "X", ...e })
        const { records, invalid } = Catalog.parseTle(lines.join("\n"), "p.tle")
        expect(invalid).toEqual([])
        const r = records[0]!
        expect(r.noradId).toBe(e.noradId)
        expect(r.inclinationDeg).toBeCloseTo(e.inclinationDeg, 3)
        expect(r.meanMotionRevDay).toBeCloseTo(e.meanMotionRevDay, 7)
        expect(Math.abs(r.epochMs - e.epochMs)).toBeLessThan(5)
      }
    ), { numRuns: 200 })
  })
})

describe("structure inferred from a catalog", () => {
  it("recovers the generating shells, planes and slot order, and says why each other record is out", () => {
    const { path, catalog: syn } = writeCatalog("tle")
    const { constellation: c, summary } = Catalog.readCatalog(path, { at: REFERENCE })
    expect(summary.shells.map((s) => [Math.round(s.altitudeKm), s.inclinationDeg.toFixed(1), s.planes, s.slotsPerPlane, s.wraps])).toEqual([
      [550, "53.0", 12, 16, true],
      [540, "53.2", 10, 14, true]
    ])
    const { truth, inferred } = recovers(syn, c)
    expect(inferred).toEqual(truth)
    const reasons = syn.truth.flatMap((t) => (t.kind === "excluded" ? [t.reason] : []))
    expect(summary.excluded).toEqual({ "stale-epoch": 4, "orbit-raising": 12, "deorbiting": 6 })
    expect(reasons.length).toBe(22)
    expect(summary.records).toBe(summary.operational + Object.values(summary.excluded).reduce((a, b) => a + b, 0))
    // Some slots were emptied: planes of different sizes.
    expect(summary.shells[0]!.minPerPlane).toBeLessThan(16)
  })

  it("says why every other record is out: decayed, eccentric, off-shell, and climbing or coming down between two shells of one inclination; a group too small once its strays are out is no shell", () => {
    const at = Date.parse(REFERENCE)
    const shells = [500, 560].map((altitudeKm, k) => walkerDelta({ name: `s${k}`, planes: 6, satsPerPlane: 10, altitudeKm, inclinationDeg: 70, phasing: 1 }))
    const syn = Catalog.syntheticCatalog({ shells, referenceMs: at, seed: 3 })
    const base = { ...syn.elements[0]!, meanMotionDot: 0 }
    const revPerDay = (altitudeKm: number) => 86_400 / orbitalPeriodSeconds(altitudeKm)
    let id = 90_000
    const odd = (over: Partial<Catalog.TleElements>): Catalog.TleElements => ({ ...base, name: `ODD-${id}`, noradId: id++, ...over })
    const extra = [
      // Valid at its epoch, a day before T; with this much drag SGP4 has it down by T.
      odd({ meanMotionRevDay: 16.5, bstar: 0.5, epochMs: at - 86_400_000 }),
      odd({ eccentricity: 0.05 }),
      odd({ meanMotionRevDay: revPerDay(700) }), // above every shell
      odd({ meanMotionRevDay: revPerDay(530), meanMotionDot: -0.0005 }), // between the shells, climbing
      odd({ meanMotionRevDay: revPerDay(530), meanMotionDot: 0.002 }), // between the shells, coming down
      // Ten at 40 deg, 2 km apart: a group big enough, but only six lie within 5 km of its median (609 km).
      ...Array.from({ length: 10 }, (_, i) => odd({ inclinationDeg: 40, meanMotionRevDay: revPerDay(600 + 2 * i) }))
    ]
    const records = Catalog.parseTle(Catalog.toTle([...syn.elements, ...extra]), "odd.tle").records
    const inference = Catalog.inferStructure(records, { atMs: at })
    expect(inference.shells.map((sh) => [Math.round(sh.altitudeKm), sh.planes.length])).toEqual([[500, 6], [560, 6]])
    // The 40-deg group: the five below its median coming down (not climbing), the five above off-shell.
    expect(Object.fromEntries(inference.excluded)).toEqual({ decayed: 1, eccentric: 1, "off-shell": 6, "orbit-raising": 1, deorbiting: 6 })
  })

  it("holds each threshold at its edge: an epoch exactly the age limit old, an eccentricity exactly the limit, a group exactly the minimum, inclinations exactly the gap apart; an even shell sits at its middle two's mean", () => {
    const at = Date.parse(REFERENCE)
    const still = { altitudeKm: 0, inclinationDeg: 0, raanDeg: 0, uDeg: 0 }
    const recordsOf = (shells: ReadonlyArray<Shell>) =>
      Catalog.parseTle(Catalog.toTle(Catalog.syntheticCatalog({ shells, referenceMs: at, seed: 5, scatter: still }).elements), "edge.tle").records
    const shell = (inclinationDeg: number, altitudeKm = 550) => walkerDelta({ planes: 5, satsPerPlane: 4, altitudeKm, inclinationDeg, phasing: 1 })
    const twenty = recordsOf([shell(53.5)])
    const excludedBy = (records: ReadonlyArray<Catalog.CatalogRecord>, o: Partial<Parameters<typeof Catalog.inferStructure>[1]> = {}) =>
      Object.fromEntries(Catalog.inferStructure(records, { atMs: at, ...o }).excluded)
    // Copies of one member whose epoch is the age limit (3 days) before the newest, and 1 ms more.
    const newest = Math.max(...twenty.map((r) => r.epochMs))
    const aged = (ms: number) => ({ ...twenty[0]!, epochMs: newest - ms })
    expect(excludedBy([...twenty, aged(3 * 86_400_000)])).toEqual({})
    expect(excludedBy([...twenty, aged(3 * 86_400_000), aged(3 * 86_400_000 + 1)])).toEqual({ "stale-epoch": 1 })
    // Eccentricity at the limit (0.01) stays; just over it is out.
    expect(excludedBy([...twenty, { ...twenty[1]!, eccentricity: 0.01 }, { ...twenty[2]!, eccentricity: 0.0100001 }])).toEqual({ eccentric: 1 })
    // A group of exactly the minimum is a shell; one short is not (all twenty off-shell).
    expect(Catalog.inferStructure(twenty, { atMs: at, minShellSatellites: 20 }).shells).toHaveLength(1)
    expect(excludedBy(twenty, { minShellSatellites: 21 })).toEqual({ "off-shell": 20 })
    // Two shells 0.125 deg apart (exact in binary and in a TLE's four decimals): one inclination group
    // with a gap of 0.125, two with any less.
    const both = recordsOf([shell(53.5), shell(53.625)])
    expect(Catalog.inferStructure(both, { atMs: at, inclinationGapDeg: 0.125 }).shells).toHaveLength(1)
    expect(Catalog.inferStructure(both, { atMs: at, inclinationGapDeg: 0.124 }).shells).toHaveLength(2)
    // Twenty satellites, ten 2 km above the other ten (within the 5-km tolerance of their median): one
    // shell at the mean of its two middle altitudes, 551 km.
    const low = recordsOf([shell(53.5, 550), shell(53.5, 552)]).filter((_, i) => i % 2 === 0)
    const [one] = Catalog.inferStructure(low, { atMs: at }).shells
    expect(one!.planes.flatMap((p) => p.satellites)).toHaveLength(20)
    expect(one!.altitudeKm).toBeCloseTo(551, 2)
  })

  it("puts slot 0 after a plane's widest gap (where an empty slot is), and wraps only planes that go all around", () => {
    const at = Date.parse(REFERENCE)
    const { catalog: syn } = writeCatalog("tle")
    const wrapAngle = (x: number) => ((x % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI)
    const inference = Catalog.inferStructure(Catalog.parseTle(Catalog.toTle(syn.elements), "p.tle").records, { atMs: at })
    for (const plane of inference.shells.flatMap((sh) => sh.planes)) {
      const u = plane.satellites.map((m) => m.uRad)
      const inner = u.slice(1).map((x, i) => wrapAngle(x - u[i]!))
      expect(wrapAngle(u[0]! - u[u.length - 1]!)).toBeGreaterThanOrEqual(Math.max(...inner))
    }
    expect(inference.shells.map((sh) => sh.wraps)).toEqual([true, true])
    const wrapsOf = (shell: Shell, keepPlane: (p: number) => boolean) => {
      const sh = Catalog.inferStructure(Catalog.parseTle(Catalog.toTle(shellElements(shell, keepPlane)), "w.tle").records, { atMs: at }).shells
      return [sh[0]!.planes.length, sh[0]!.wraps]
    }
    const delta = (planes: number) => walkerDelta({ planes, satsPerPlane: 12, altitudeKm: 600, inclinationDeg: 60, phasing: 1 })
    expect(wrapsOf(delta(6), () => true)).toEqual([6, true])
    // One plane missing: a gap of twice the spacing is where the ring opens.
    expect(wrapsOf(delta(6), (p) => p !== 2)).toEqual([5, false])
    // Two planes are a pair, not a ring; a star's planes span half the circle.
    expect(wrapsOf(delta(2), () => true)).toEqual([2, false])
    expect(wrapsOf(walkerStar({ planes: 6, satsPerPlane: 12, altitudeKm: 780, inclinationDeg: 86.4, phasing: 1 }), () => true)).toEqual([6, false])
  })

  it("describes an inferred shell as a Walker shell is described: RAAN from the first plane over planes x spacing (360 all round), each satellite's own inclination, planes counted within their shell", () => {
    // Planes at 0, 60, 180, 240 and 300 deg (the third gone): the patch opens at the gap, so its first
    // plane is at 180 and it spans five spacings of 60, as a Walker shell of 5 planes from 180 over 300.
    const patch = shellConstellation(walkerDelta({ planes: 6, satsPerPlane: 12, altitudeKm: 600, inclinationDeg: 60, phasing: 1 }), (p) => p !== 2)
    expect(patch.shells[0]!.raan0Deg).toBeCloseTo(180, 0)
    expect(patch.shells[0]!.raanSpreadDeg).toBeCloseTo(300, 0)
    for (let i = 0; i < patch.size; i++) expect(patch.inclinationRad[i]! * (180 / Math.PI)).toBeCloseTo(60, 1)
    const { path, catalog: syn } = writeCatalog("tle")
    const { constellation: c } = Catalog.readCatalog(path, { at: REFERENCE })
    expect(c.shells.map((s) => s.raanSpreadDeg)).toEqual([360, 360])
    // Two shells, 53.0 and 53.2 deg: each satellite flies its own record's inclination (printed to 1e-4 deg).
    const inclination = new Map(syn.elements.map((e) => [e.noradId, e.inclinationDeg]))
    for (let i = 0; i < c.size; i++) {
      expect(c.inclinationRad[i]! * (180 / Math.PI)).toBeCloseTo(inclination.get(c.catalog!.noradIds[i]!)!, 3)
      const k = c.shellOf[i]!
      expect(c.planeOf[i]).toBeLessThan(c.shells[k]!.planes)
      const g = c.shellPlaneStart[k]! + c.planeOf[i]!
      expect(c.planeStart[g]! <= i && i < c.planeStart[g + 1]!).toBe(true)
    }
  })

  it("recovers any Walker shell with empty slots (property)", () => {
    fc.assert(fc.property(
      fc.record({
        planes: fc.integer({ min: 3, max: 24 }), satsPerPlane: fc.integer({ min: 6, max: 30 }), altitudeKm: fc.integer({ min: 400, max: 1200 }),
        inclinationDeg: fc.double({ min: 30, max: 98, noNaN: true }), phasing: fc.nat(), missing: uniform(0, 0.25), seed: fc.nat(1000)
      }),
      (p) => {
        const shell = walkerDelta({ planes: p.planes, satsPerPlane: p.satsPerPlane, altitudeKm: p.altitudeKm, inclinationDeg: p.inclinationDeg, phasing: p.phasing % p.planes })
        const syn = Catalog.syntheticCatalog({ shells: [shell], referenceMs: Date.parse(REFERENCE), seed: p.seed, missingFraction: p.missing })
        const records = Catalog.parseTle(Catalog.toTle(syn.elements), "p.tle").records
        const inference = Catalog.inferStructure(records, { atMs: Date.parse(REFERENCE), minShellSatellites: 3 })
        expect(inference.shells.length).toBe(1)
        expect(inference.shells[0]!.planes.length).toBe(p.planes)
        const planeIds = inference.shells[0]!.planes.map((pl) => canonicalRing(pl.satellites.map((m) => m.record.noradId))).sort()
        expect(planeIds).toEqual([...truthPlanes(syn).values()].map(canonicalRing).sort())
      }
    ), { numRuns: 40 })
  })

  it("keeps the recovered structure when t = 0 is hours after the newest epoch, by seconds or by ISO instant", () => {
    const { path, catalog: syn } = writeCatalog("tle")
    const iso = Catalog.readCatalog(path, { at: "2026-11-01T06:00:00Z" })
    const newest = Date.parse(Catalog.readCatalog(path, { at: REFERENCE }).summary.newestEpoch)
    const seconds = Catalog.readCatalog(path, { at: (Date.parse("2026-11-01T06:00:00Z") - newest) / 1000 })
    expect(seconds.summary.at).toBe(iso.summary.at)
    const a = new Float64Array(3 * iso.constellation.size), b = new Float64Array(3 * seconds.constellation.size)
    ephemerisOf(iso.constellation).positionsAt(0, a)
    ephemerisOf(seconds.constellation).positionsAt(0, b)
    expect(Array.from(b)).toEqual(Array.from(a))
    const { truth, inferred } = recovers(syn, iso.constellation)
    expect(inferred).toEqual(truth)
    expect(() => Catalog.readCatalog(path, { at: "next tuesday" })).toThrow(/--at/)
  })
})

describe("laser links over inferred planes", () => {
  it("links fore and aft except across an empty slot, and each side to a mutual nearest in the next plane", () => {
    const { path } = writeCatalog("tle")
    const { constellation: c } = Catalog.readCatalog(path, { at: REFERENCE })
    const g = plusGrid(c)
    const spacingOf = (i: number) => (2 * Math.PI) / c.shells[c.shellOf[i]!]!.satsPerPlane
    let gaps = 0
    for (let i = 0; i < c.size; i++) {
      // Every neighbour relation is symmetric and inside the shell.
      const [prev, next, left, right] = [0, 1, 2, 3].map((k) => g.neighbours[4 * i + k]!)
      if (next! >= 0) expect(g.neighbours[4 * next! + 0]).toBe(i)
      if (right! >= 0) expect(g.neighbours[4 * right! + 2]).toBe(i)
      for (const n of [prev, next, left, right]) if (n! >= 0) expect(c.shellOf[n!]).toBe(c.shellOf[i])
      if (next! >= 0) expect(c.planeOf[next!]).toBe(c.planeOf[i])
      // The next satellite in the plane along the ring: linked unless an empty slot lies between.
      const g0 = c.shellPlaneStart[c.shellOf[i]!]! + c.planeOf[i]!
      const n = c.planeStart[g0 + 1]! - c.planeStart[g0]!
      const following = c.planeStart[g0]! + ((c.slotOf[i]! + 1) % n)
      const apart = (c.u0Rad[following]! - c.u0Rad[i]! + 4 * Math.PI) % (2 * Math.PI)
      if (apart < 1.3 * spacingOf(i)) expect(next).toBe(following)
      if (apart > 1.7 * spacingOf(i)) {
        expect(next).toBe(-1)
        gaps++
      }
    }
    expect(gaps).toBeGreaterThan(0)
    // Over planes of one or two satellites and wide holes: no link twice, and no link across planes
    // between satellites more than one nominal spacing apart in argument of latitude.
    const sparse = Catalog.readCatalog(writeCatalog("tle", { missingFraction: 0.8 }).path, { at: REFERENCE }).constellation
    const gs = plusGrid(sparse)
    const pairs = Array.from({ length: gs.linkCount }, (_, l) => [gs.linkA[l]!, gs.linkB[l]!].sort((x, y) => x - y).join("-"))
    expect(new Set(pairs).size).toBe(gs.linkCount)
    let across = 0
    for (let l = 0; l < gs.linkCount; l++) {
      if (gs.linkKind[l] !== LinkKind.interPlane) continue
      across++
      const a = gs.linkA[l]!, b = gs.linkB[l]!
      const d = Math.abs(((sparse.u0Rad[b]! - sparse.u0Rad[a]! + 3 * Math.PI) % (2 * Math.PI)) - Math.PI)
      expect(d).toBeLessThanOrEqual((2 * Math.PI) / sparse.shells[sparse.shellOf[a]!]!.satsPerPlane + 1e-12)
    }
    expect(across).toBeGreaterThan(0)
    // Without empty slots every satellite has its four grid neighbours.
    const full = Catalog.readCatalog(writeCatalog("tle", { missingFraction: 0 }).path, { at: REFERENCE }).constellation
    const gf = plusGrid(full)
    expect(Array.from(gf.neighbours).filter((n) => n < 0)).toEqual([])
  })

  it("links between inferred planes are inter-plane links; the seam closes only where the planes go all around, unless forced", () => {
    const { path } = writeCatalog("tle", { missingFraction: 0 })
    const { constellation: ring } = Catalog.readCatalog(path, { at: REFERENCE })
    const g = plusGrid(ring)
    // Right neighbours are in the next plane, over a link the polar cut-off applies to.
    for (let i = 0; i < ring.size; i++) {
      const right = g.neighbourLink[4 * i + 3]!
      if (right >= 0) expect(g.linkKind[right]).toBe(LinkKind.interPlane)
    }
    const seamLinks = (c: Constellation.Constellation, seam: "auto" | "wrap" | "cut") => {
      const grid = plusGrid(c, { ...defaultIslRules, seam })
      const lastPlane = (i: number) => c.planeOf[i] === c.shells[c.shellOf[i]!]!.planes - 1
      return Array.from({ length: c.size }, (_, i) => i).filter((i) => lastPlane(i) && grid.neighbours[4 * i + 3]! >= 0).length
    }
    expect(seamLinks(ring, "auto")).toBeGreaterThan(0)
    expect(seamLinks(ring, "wrap")).toBe(seamLinks(ring, "auto"))
    expect(seamLinks(ring, "cut")).toBe(0)
    // Six planes with the third gone: a patch of five, open at the gap unless the seam is forced.
    const shell = (planes: number) => walkerDelta({ planes, satsPerPlane: 12, altitudeKm: 600, inclinationDeg: 60, phasing: 1 })
    const patch = shellConstellation(shell(6), (p) => p !== 2)
    expect(patch.shells[0]!.raanSpreadDeg).toBeLessThan(360)
    expect([seamLinks(patch, "auto"), seamLinks(patch, "cut")]).toEqual([0, 0])
    expect(seamLinks(patch, "wrap")).toBeGreaterThan(0)
    // Two planes are a pair, not a ring, even where the seam is forced: no second set of links between them.
    const pair = shellConstellation(shell(2))
    expect(pair.shells[0]!.planes).toBe(2)
    expect(seamLinks(pair, "wrap")).toBe(0)
  })

  it("cross-shell links only on request: mutual nearest of another shell, one per satellite, within range", () => {
    const { path } = writeCatalog("tle")
    const { constellation: c } = Catalog.readCatalog(path, { at: REFERENCE })
    const without = plusGrid(c)
    expect(Array.from(without.linkKind).filter((k) => k === LinkKind.crossShell)).toEqual([])
    const g = plusGrid(c, { ...defaultIslRules, crossShellLinks: true })
    const cross = Array.from({ length: g.linkCount }, (_, l) => l).filter((l) => g.linkKind[l] === LinkKind.crossShell)
    expect(cross.length).toBeGreaterThan(0)
    expect(g.linkCount).toBe(without.linkCount + cross.length)
    const pos = new Float64Array(3 * c.size)
    ephemerisOf(c).positionsAt(0, pos)
    // Exactly the pairs a search over every satellite finds, at the default range and a short one.
    const apart = (a: number, b: number) => Math.hypot(pos[3 * a]! - pos[3 * b]!, pos[3 * a + 1]! - pos[3 * b + 1]!, pos[3 * a + 2]! - pos[3 * b + 2]!)
    for (const maxRangeKm of [defaultIslRules.maxRangeKm, 400]) {
      const nearest = Array.from({ length: c.size }, (_, i) => {
        let best = -1
        for (let j = 0; j < c.size; j++) if (c.shellOf[j] !== c.shellOf[i] && apart(i, j) <= maxRangeKm && (best < 0 || apart(i, j) < apart(i, best))) best = j
        return best
      })
      const want = nearest.flatMap((j, i) => (j > i && nearest[j] === i ? [`${i}-${j}`] : []))
      const gr = plusGrid(c, { ...defaultIslRules, crossShellLinks: true, maxRangeKm })
      const got = Array.from({ length: gr.linkCount }, (_, l) => l).filter((l) => gr.linkKind[l] === LinkKind.crossShell).map((l) => `${gr.linkA[l]}-${gr.linkB[l]}`)
      expect(got.sort()).toEqual(want.sort())
      if (maxRangeKm === 400) expect(want.length).toBeLessThan(cross.length)
    }
    const ends = cross.flatMap((l) => [g.linkA[l]!, g.linkB[l]!])
    expect(new Set(ends).size).toBe(ends.length)
    for (const l of cross) {
      const a = g.linkA[l]!, b = g.linkB[l]!
      expect(c.shellOf[a]).not.toBe(c.shellOf[b])
      expect(Math.hypot(pos[3 * a]! - pos[3 * b]!, pos[3 * a + 1]! - pos[3 * b + 1]!, pos[3 * a + 2]! - pos[3 * b + 2]!)).toBeLessThanOrEqual(defaultIslRules.maxRangeKm)
    }
  })
})

describe("a catalog constellation in the world", () => {
  it("placement boxes stay distinct and in the centre's shell over planes of different sizes, some of one or two satellites", () => {
    const { constellation: c } = Catalog.readCatalog(writeCatalog("tle", { missingFraction: 0.8 }).path, { at: REFERENCE })
    expect(Array.from({ length: c.planeCount }, (_, p) => c.planeStart[p + 1]! - c.planeStart[p]!).some((n) => n < 3)).toBe(true)
    const g = plusGrid(c)
    for (let centre = 0; centre < c.size; centre++) {
      const box = boxAround(c, g, centre, 3)
      expect(new Set(box).size).toBe(9)
      for (const v of box) expect(c.shellOf[v]).toBe(c.shellOf[centre])
    }
  })
})

