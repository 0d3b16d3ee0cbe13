/**
 * Structure inferred from a catalog, not assumed: which records are operational, which shell each
 * belongs to, its plane and its slot. All from mean elements brought to one instant T with SGP4's secular
 * rates (mean RAAN and argument of latitude drift with J2; osculating elements would wobble by tenths of
 * a degree and kilometres over an orbit and blur the clusters).
 *
 * 1. Exclusions first, each with its reason: SGP4 fails at T ("decayed"), epoch stale against the
 *    catalog's newest ("stale-epoch"), eccentricity above a circular shell's ("eccentric").
 * 2. Shells: sort by inclination and split where two neighbours differ by more than `inclinationGapDeg`;
 *    within each, sort by mean-motion altitude and split where neighbours differ by more than
 *    `altitudeGapKm`. A group of at least `minShellSatellites` is a shell; a member further than
 *    `shellToleranceKm` from its shell's median altitude, and every member of a smaller group, is not
 *    operational: "orbit-raising" below a shell and climbing (mean motion falling), "deorbiting" below a
 *    shell and not climbing, "off-shell" otherwise.
 * 3. Planes: within a shell, circular clusters of mean RAAN split at gaps over `planeGapDeg`, in RAAN
 *    order starting after the widest gap. The shell's planes wrap (last links to first) when that widest
 *    gap is no more than 1.5 times the median spacing of planes, i.e. the planes go all around.
 * 4. Slots: within a plane, satellites in order of mean argument of latitude, slot 0 after the widest gap
 *    (so a missing slot sits at the end of the ring). The shell's nominal slots per plane is 360 deg over
 *    the median in-plane spacing.
 */
import { propagate } from "satellite.js"
import { EARTH_MU_KM3_S2, EARTH_RADIUS_KM } from "../constants.js"
import type { CatalogRecord } from "./record.js"

export interface InferenceOptions {
  /** The instant that becomes t = 0, ms since 1970 (UTC). */
  readonly atMs: number
  readonly maxEpochAgeDays?: number
  readonly maxEccentricity?: number
  readonly inclinationGapDeg?: number
  readonly altitudeGapKm?: number
  readonly minShellSatellites?: number
  readonly shellToleranceKm?: number
  readonly planeGapDeg?: number
}

const defaultInference = {
  maxEpochAgeDays: 3,
  maxEccentricity: 0.01,
  inclinationGapDeg: 0.1,
  altitudeGapKm: 3,
  minShellSatellites: 10,
  shellToleranceKm: 5,
  planeGapDeg: 1.5
} as const

export const exclusionReasons = ["invalid-record", "decayed", "stale-epoch", "eccentric", "orbit-raising", "deorbiting", "off-shell"] as const
export type ExclusionReason = (typeof exclusionReasons)[number]

/** A record's mean elements at T. */
export interface MeanState {
  readonly record: CatalogRecord
  readonly altitudeKm: number
  readonly radiusKm: number
  readonly inclinationDeg: number
  /** Mean right ascension of the ascending node at T, rad in [0, 2pi). */
  readonly raanRad: number
  /** Mean argument of latitude at T, rad in [0, 2pi). */
  readonly uRad: number
  readonly meanMotionRadS: number
}

export interface InferredPlane {
  /** Members in slot order. */
  readonly satellites: ReadonlyArray<MeanState>
  readonly raanDeg: number
}

export interface InferredShell {
  readonly inclinationDeg: number
  readonly altitudeKm: number
  readonly planes: ReadonlyArray<InferredPlane>
  /** Nominal slots per plane: 360 deg over the median in-plane spacing. */
  readonly slotsPerPlane: number
  /** Whether the planes go all around (the last plane's next is the first). */
  readonly wraps: boolean
}

export interface Inference {
  readonly shells: ReadonlyArray<InferredShell>
  readonly excluded: ReadonlyMap<ExclusionReason, number>
}

const TWO_PI = 2 * Math.PI
const DEG = Math.PI / 180
const wrap2pi = (x: number) => ((x % TWO_PI) + TWO_PI) % TWO_PI
const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Mean elements of a record at T (null if SGP4 fails there). */
const meanStateAt = (record: CatalogRecord, atMs: number): MeanState | null => {
  const sr = record.satrec
  const pv = propagate(sr, new Date(atMs))
  if (!pv || typeof pv.position === "boolean" || sr.error !== 0) return null
  const dtMin = (atMs - record.epochMs) / 60_000
  const n = (record.meanMotionRevDay * TWO_PI) / 86_400
  const radiusKm = Math.cbrt(EARTH_MU_KM3_S2 / (n * n))
  return {
    record,
    altitudeKm: radiusKm - EARTH_RADIUS_KM,
    radiusKm,
    inclinationDeg: record.inclinationDeg,
    raanRad: wrap2pi(sr.nodeo + sr.nodedot * dtMin),
    uRad: wrap2pi(sr.argpo + sr.argpdot * dtMin + sr.mo + sr.mdot * dtMin),
    meanMotionRadS: n
  }
}

/** Split a sorted list where consecutive keys differ by more than gap. */
const splitAtGaps = <A>(sorted: ReadonlyArray<A>, key: (a: A) => number, gap: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (const a of sorted) {
    const last = out[out.length - 1]
    if (last && key(a) - key(last[last.length - 1]!) <= gap) last.push(a)
    else out.push([a])
  }
  return out
}

/**
 * Circular clusters of angles (rad): sorted, split at gaps over `gap`, the cut placed after the widest
 * gap so no cluster straddles it. Returns clusters in angle order from there, and that widest gap.
 */
const circularClusters = <A>(items: ReadonlyArray<A>, angle: (a: A) => number, gap: number): { clusters: Array<Array<A>>; widestGap: number } => {
  const s = [...items].sort((a, b) => angle(a) - angle(b))
  if (s.length <= 1) return { clusters: s.length ? [s] : [], widestGap: TWO_PI }
  let widest = -1, at = 0
  for (let i = 0; i < s.length; i++) {
    const next = i + 1 < s.length ? angle(s[i + 1]!) : angle(s[0]!) + TWO_PI
    const g = next - angle(s[i]!)
    if (g > widest) {
      widest = g
      at = i + 1
    }
  }
  const rotated = [...s.slice(at), ...s.slice(0, at)]
  const base = angle(rotated[0]!)
  const unwrapped = (a: A) => wrap2pi(angle(a) - base)
  return { clusters: splitAtGaps(rotated, unwrapped, gap), widestGap: widest }
}

const circularMean = (angles: ReadonlyArray<number>): number => {
  let x = 0, y = 0
  for (const a of angles) {
    x += Math.cos(a)
    y += Math.sin(a)
  }
  return wrap2pi(Math.atan2(y, x))
}

/** Infer shells, planes and slots; every record ends in exactly one plane or one exclusion count. */
export const inferStructure = (records: ReadonlyArray<CatalogRecord>, options: InferenceOptions): Inference => {
  const o = { ...defaultInference, ...options }
  const excluded = new Map<ExclusionReason, number>()
  const exclude = (r: ExclusionReason) => excluded.set(r, (excluded.get(r) ?? 0) + 1)
  const newest = records.reduce((m, r) => Math.max(m, r.epochMs), Number.NEGATIVE_INFINITY)
  const candidates: Array<MeanState> = []
  for (const r of records) {
    const m = meanStateAt(r, o.atMs)
    if (m === null) exclude("decayed")
    else if (r.epochMs < newest - o.maxEpochAgeDays * 86_400_000) exclude("stale-epoch")
    else if (r.eccentricity > o.maxEccentricity) exclude("eccentric")
    else candidates.push(m)
  }
  // Shells: inclination groups, then altitude groups within each.
  const byInclination = splitAtGaps([...candidates].sort((a, b) => a.inclinationDeg - b.inclinationDeg || a.altitudeKm - b.altitudeKm), (m) => m.inclinationDeg, o.inclinationGapDeg)
  const shells: Array<InferredShell> = []
  for (const group of byInclination) {
    const byAltitude = splitAtGaps([...group].sort((a, b) => a.altitudeKm - b.altitudeKm), (m) => m.altitudeKm, o.altitudeGapKm)
    const shellAltitudes = byAltitude.filter((g) => g.length >= o.minShellSatellites).map((g) => median(g.map((m) => m.altitudeKm)))
    const notOperational = (m: MeanState) => {
      const below = shellAltitudes.some((alt) => m.altitudeKm < alt)
      exclude(!below ? "off-shell" : m.record.meanMotionDot < 0 ? "orbit-raising" : "deorbiting")
    }
    for (const g of byAltitude) {
      if (g.length < o.minShellSatellites) {
        g.forEach(notOperational)
        continue
      }
      const alt = median(g.map((m) => m.altitudeKm))
      const members = g.filter((m) => Math.abs(m.altitudeKm - alt) <= o.shellToleranceKm)
      g.filter((m) => Math.abs(m.altitudeKm - alt) > o.shellToleranceKm).forEach(notOperational)
      if (members.length < o.minShellSatellites) {
        members.forEach(notOperational)
        continue
      }
      shells.push(shellOf(members, o.planeGapDeg))
    }
  }
  shells.sort((a, b) => a.inclinationDeg - b.inclinationDeg || a.altitudeKm - b.altitudeKm)
  return { shells, excluded }
}

const shellOf = (members: ReadonlyArray<MeanState>, planeGapDeg: number): InferredShell => {
  const { clusters, widestGap } = circularClusters(members, (m) => m.raanRad, planeGapDeg * DEG)
  const planes = clusters.map((cluster): InferredPlane => {
    const { clusters: ring } = circularClusters(cluster, (m) => m.uRad, TWO_PI)
    return { satellites: ring[0]!, raanDeg: circularMean(cluster.map((m) => m.raanRad)) / DEG }
  })
  // In-plane spacings (not the ring's closing gap, its widest, where a missing slot would be) give the nominal slot count.
  const spacings: Array<number> = []
  for (const p of planes) {
    const s = p.satellites
    for (let i = 0; i + 1 < s.length; i++) spacings.push(wrap2pi(s[i + 1]!.uRad - s[i]!.uRad))
  }
  const slotsPerPlane = spacings.length ? Math.max(1, Math.round(TWO_PI / median(spacings))) : 1
  // Plane spacing: between consecutive planes' mean RAANs; the widest gap between member RAANs is where the ring opens.
  const planeGaps = planes.slice(1).map((p, i) => wrap2pi((p.raanDeg - planes[i]!.raanDeg) * DEG))
  const wraps = planes.length >= 3 && widestGap <= 1.5 * median(planeGaps)
  return {
    inclinationDeg: median(members.map((m) => m.inclinationDeg)),
    altitudeKm: median(members.map((m) => m.altitudeKm)),
    planes, slotsPerPlane, wraps
  }
}
