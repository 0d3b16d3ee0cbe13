/**
 * Synthetic catalogs with a known answer: Walker shells written out as the public catalogs would list
 * them, with the irregularities of a real one (empty slots, shells a few km and a fraction of a degree
 * apart, satellites raising their orbit or coming down, stale element sets, epochs spread over a day or
 * two, scatter in every element), and for each record the truth the inference should recover. Tests
 * check the inference against it; experiments/catalog.ts writes one for benchmarks and demos.
 *
 * Elements are mean elements at each record's own epoch, made so that SGP4's secular rates bring them
 * to the Walker state at the reference instant: the rates are read from a satrec of the same
 * inclination, eccentricity and mean motion, so the round trip is exact to the printed digits.
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus"
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { json2satrec, type OMMJsonObject } from "satellite.js"
import { stringify } from "csv-stringify/sync"
import { EARTH_MU_KM3_S2, EARTH_RADIUS_KM } from "../constants.js"
import type { Shell } from "../shell.js"
import { formatTle, type TleElements } from "./tle.js"
import type { ExclusionReason } from "./infer.js"

export interface SyntheticOptions {
  readonly shells: ReadonlyArray<Shell>
  /** The instant whose Walker state the operational satellites are in, ms since 1970. */
  readonly referenceMs: number
  readonly seed?: number
  /** Fraction of slots left empty. */
  readonly missingFraction?: number
  readonly orbitRaising?: number
  readonly deorbiting?: number
  /** Operational satellites whose element set is ten days old. */
  readonly stale?: number
  /** Epochs spread uniformly over the this many hours before the reference instant. */
  readonly epochSpreadHours?: number
  /** Scatter (uniform, +-) of altitude (km), inclination (deg), RAAN (deg) and argument of latitude (deg). */
  readonly scatter?: { readonly altitudeKm: number; readonly inclinationDeg: number; readonly raanDeg: number; readonly uDeg: number }
}

export type SyntheticTruth =
  | { readonly kind: "operational"; readonly shell: number; readonly plane: number; readonly slot: number }
  | { readonly kind: "excluded"; readonly reason: ExclusionReason }

export interface SyntheticCatalog {
  readonly elements: ReadonlyArray<TleElements>
  readonly truth: ReadonlyArray<SyntheticTruth>
}

const TWO_PI = 2 * Math.PI
const DEG = Math.PI / 180
const wrapDeg = (x: number) => ((x % 360) + 360) % 360
const revPerDayAt = (altitudeKm: number) => {
  const a = EARTH_RADIUS_KM + altitudeKm
  return (Math.sqrt(EARTH_MU_KM3_S2 / (a * a * a)) * 86_400) / TWO_PI
}

/** Mean elements at `epochMs` that SGP4 brings to (raan, u) at `referenceMs`. */
const elementsAt = (
  e: { name: string; noradId: number; inclinationDeg: number; eccentricity: number; meanMotionRevDay: number; raanDeg: number; uDeg: number; meanMotionDot?: number },
  epochMs: number, referenceMs: number
): TleElements => {
  const probe = json2satrec({
    OBJECT_NAME: e.name, OBJECT_ID: "", EPOCH: new Date(epochMs).toISOString().replace("Z", ""), MEAN_MOTION: e.meanMotionRevDay,
    ECCENTRICITY: e.eccentricity, INCLINATION: e.inclinationDeg, RA_OF_ASC_NODE: 0, ARG_OF_PERICENTER: 0, MEAN_ANOMALY: 0,
    NORAD_CAT_ID: e.noradId, ELEMENT_SET_NO: 999, REV_AT_EPOCH: 1, BSTAR: 0, MEAN_MOTION_DOT: 0, MEAN_MOTION_DDOT: 0
  } as OMMJsonObject)
  const dtMin = (referenceMs - epochMs) / 60_000
  return {
    name: e.name, noradId: e.noradId, epochMs, inclinationDeg: e.inclinationDeg, eccentricity: e.eccentricity, meanMotionRevDay: e.meanMotionRevDay,
    raanDeg: wrapDeg(e.raanDeg - (probe.nodedot * dtMin) / DEG),
    argPerigeeDeg: wrapDeg(-(probe.argpdot * dtMin) / DEG),
    meanAnomalyDeg: wrapDeg(e.uDeg - (probe.mdot * dtMin) / DEG),
    meanMotionDot: e.meanMotionDot ?? 0
  }
}

export const syntheticCatalog = (o: SyntheticOptions): SyntheticCatalog => {
  const rng = xoroshiro128plus(o.seed ?? 1)
  const uniform = () => uniformFloat64(rng)
  const jitter = (amplitude: number) => (2 * uniform() - 1) * amplitude
  const sc = o.scatter ?? { altitudeKm: 0.5, inclinationDeg: 0.01, raanDeg: 0.05, uDeg: 0.3 }
  const spreadMs = (o.epochSpreadHours ?? 36) * 3_600_000
  const epoch = () => o.referenceMs - uniform() * spreadMs
  const elements: Array<TleElements> = []
  const truth: Array<SyntheticTruth> = []
  let norad = 44_000
  const operational: Array<{ shell: Shell; raanDeg: number; uDeg: number }> = []
  o.shells.forEach((s, k) => {
    const total = s.planes * s.satsPerPlane
    let slotInPlane = 0
    for (let p = 0; p < s.planes; p++) {
      slotInPlane = 0
      for (let q = 0; q < s.satsPerPlane; q++) {
        // Never empty slot 0 of a plane, so every plane keeps a satellite and plane numbering is certain.
        if (q > 0 && uniform() < (o.missingFraction ?? 0)) continue
        const raanDeg = s.raan0Deg + (p * s.raanSpreadDeg) / s.planes
        const uDeg = 360 * (q / s.satsPerPlane + (s.phasing * p) / total)
        operational.push({ shell: s, raanDeg, uDeg })
        elements.push(elementsAt({
          name: `SYN-${k}-${p}-${q}`, noradId: norad++, inclinationDeg: s.inclinationDeg + jitter(sc.inclinationDeg), eccentricity: 0.0001,
          meanMotionRevDay: revPerDayAt(s.altitudeKm + jitter(sc.altitudeKm)), raanDeg: raanDeg + jitter(sc.raanDeg), uDeg: uDeg + jitter(sc.uDeg),
          meanMotionDot: 0.00001
        }, epoch(), o.referenceMs))
        truth.push({ kind: "operational", shell: k, plane: p, slot: slotInPlane++ })
      }
    }
  })
  const lowest = Math.min(...o.shells.map((s) => s.altitudeKm))
  const offShell = (count: number, reason: "orbit-raising" | "deorbiting") => {
    for (let i = 0; i < count; i++) {
      const s = o.shells[Math.floor(uniform() * o.shells.length)]!
      // Spread between 350 km and 30 km under the lowest shell, a few km apart at least.
      const altitude = 350 + (lowest - 380) * ((i + uniform() * 0.5) / Math.max(1, count))
      elements.push(elementsAt({
        name: `SYN-${reason}-${i}`, noradId: norad++, inclinationDeg: s.inclinationDeg + jitter(sc.inclinationDeg), eccentricity: 0.0002,
        meanMotionRevDay: revPerDayAt(altitude), raanDeg: uniform() * 360, uDeg: uniform() * 360,
        meanMotionDot: reason === "orbit-raising" ? -0.0005 : 0.002
      }, epoch(), o.referenceMs))
      truth.push({ kind: "excluded", reason })
    }
  }
  offShell(o.orbitRaising ?? 0, "orbit-raising")
  offShell(o.deorbiting ?? 0, "deorbiting")
  for (let i = 0; i < (o.stale ?? 0); i++) {
    const like = operational[Math.floor(uniform() * operational.length)]!
    elements.push(elementsAt({
      name: `SYN-stale-${i}`, noradId: norad++, inclinationDeg: like.shell.inclinationDeg, eccentricity: 0.0001,
      meanMotionRevDay: revPerDayAt(like.shell.altitudeKm), raanDeg: like.raanDeg, uDeg: like.uDeg + 180
    }, o.referenceMs - 10 * 86_400_000, o.referenceMs))
    truth.push({ kind: "excluded", reason: "stale-epoch" })
  }
  return { elements, truth }
}

/** Three-line TLE text. */
export const toTle = (elements: ReadonlyArray<TleElements>): string => `${elements.flatMap(formatTle).join("\n")}\n`

const ommObject = (e: TleElements) => ({
  OBJECT_NAME: e.name, OBJECT_ID: `2020-001A`, EPOCH: new Date(e.epochMs).toISOString().replace("Z", ""),
  MEAN_MOTION: e.meanMotionRevDay, ECCENTRICITY: e.eccentricity, INCLINATION: e.inclinationDeg, RA_OF_ASC_NODE: e.raanDeg,
  ARG_OF_PERICENTER: e.argPerigeeDeg, MEAN_ANOMALY: e.meanAnomalyDeg, EPHEMERIS_TYPE: 0, CLASSIFICATION_TYPE: "U",
  NORAD_CAT_ID: e.noradId, ELEMENT_SET_NO: 999, REV_AT_EPOCH: 1, BSTAR: e.bstar ?? 0, MEAN_MOTION_DOT: e.meanMotionDot ?? 0, MEAN_MOTION_DDOT: 0
})

/** OMM JSON text, one object per line as CelesTrak writes it. */
export const toOmmJson = (elements: ReadonlyArray<TleElements>): string => `[${elements.map((e) => JSON.stringify(ommObject(e))).join(",\n")}]\n`

/** OMM CSV text with a header row. */
export const toOmmCsv = (elements: ReadonlyArray<TleElements>): string => stringify(elements.map(ommObject), { header: true })
