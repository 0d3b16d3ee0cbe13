/**
 * Ground stations and users on a spherical Earth of the model's radius. A satellite is visible from a
 * station when its elevation is at least the mask (25 deg by default, Starlink's minimum); the serving
 * satellite is the visible one highest in the sky.
 */
import { DEG, EARTH_RADIUS_KM } from "./constants.js"
import type { Ephemeris } from "./ephemeris.js"

export interface GroundStation {
  readonly name?: string
  readonly latDeg: number
  readonly lonDeg: number
  readonly altitudeKm?: number
}

export const DEFAULT_ELEVATION_MASK_DEG = 25

/** Earth-fixed position of a station, km. */
export const stationEcef = (g: GroundStation): [number, number, number] => {
  const r = EARTH_RADIUS_KM + (g.altitudeKm ?? 0)
  const lat = g.latDeg * DEG
  const lon = g.lonDeg * DEG
  return [r * Math.cos(lat) * Math.cos(lon), r * Math.cos(lat) * Math.sin(lon), r * Math.sin(lat)]
}

/** Inertial position of a station at Earth rotation angle theta, km. */
export const stationInertial = (g: GroundStation, theta: number): [number, number, number] => {
  const [x, y, z] = stationEcef(g)
  const c = Math.cos(theta)
  const s = Math.sin(theta)
  return [c * x - s * y, s * x + c * y, z]
}

/** Elevation (deg) of point p (inertial, km) seen from station position o (inertial, km). */
export const elevationDeg = (o: readonly [number, number, number], px: number, py: number, pz: number): number => {
  const dx = px - o[0], dy = py - o[1], dz = pz - o[2]
  const range = Math.sqrt(dx * dx + dy * dy + dz * dz)
  const ro = Math.sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2])
  const sinEl = (dx * o[0] + dy * o[1] + dz * o[2]) / (range * ro)
  return Math.asin(Math.max(-1, Math.min(1, sinEl))) / DEG
}

export interface Visibility {
  /** Visible satellites, highest first. */
  readonly satellites: ReadonlyArray<number>
  readonly elevationsDeg: ReadonlyArray<number>
  readonly rangesKm: ReadonlyArray<number>
  /** Highest visible satellite, or -1 if none is above the mask. */
  readonly serving: number
}

/** Satellites above the mask from a station, given positions at Earth rotation angle theta. */
export const visibleSatellites = (
  g: GroundStation,
  positions: Float64Array,
  size: number,
  theta: number,
  maskDeg = DEFAULT_ELEVATION_MASK_DEG
): Visibility => {
  const o = stationInertial(g, theta)
  const found: Array<[number, number, number]> = []
  for (let i = 0; i < size; i++) {
    const px = positions[3 * i]!, py = positions[3 * i + 1]!, pz = positions[3 * i + 2]!
    // Cheap reject: a satellite behind the local horizon plane cannot be above any non-negative mask.
    if ((px - o[0]) * o[0] + (py - o[1]) * o[1] + (pz - o[2]) * o[2] < 0 && maskDeg >= 0) continue
    const el = elevationDeg(o, px, py, pz)
    if (el >= maskDeg) found.push([i, el, Math.hypot(px - o[0], py - o[1], pz - o[2])])
  }
  found.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  return {
    satellites: found.map((f) => f[0]),
    elevationsDeg: found.map((f) => f[1]),
    rangesKm: found.map((f) => f[2]),
    serving: found.length > 0 ? found[0]![0] : -1
  }
}

/**
 * The highest satellite above the mask, or -1: what `visibleSatellites(...).serving` gives, without
 * allocating, for hot paths that need only the serving satellite. `from`: only satellites from..size-1
 * (one shell of a constellation, whose satellites are contiguous).
 */
export const servingSatellite = (g: GroundStation, positions: Float64Array, size: number, theta: number, maskDeg = DEFAULT_ELEVATION_MASK_DEG, from = 0): number => {
  const o = stationInertial(g, theta)
  const ro = Math.hypot(o[0], o[1], o[2])
  const sinMask = Math.sin(maskDeg * DEG)
  let best = -1
  let bestSin = -2
  for (let i = from; i < size; i++) {
    const dx = positions[3 * i]! - o[0], dy = positions[3 * i + 1]! - o[1], dz = positions[3 * i + 2]! - o[2]
    const up = dx * o[0] + dy * o[1] + dz * o[2]
    if (up <= 0) continue
    const sinEl = up / (Math.sqrt(dx * dx + dy * dy + dz * dz) * ro)
    if (sinEl >= sinMask && sinEl > bestSin) {
      bestSin = sinEl
      best = i
    }
  }
  return best
}

/**
 * The satellite highest in the sky over a station, below the horizon too (-1 only with no satellites):
 * where a ground actor far from a patch of planes belongs. visibleSatellites with a -90 deg mask gives
 * the same, but allocates and sorts every satellite.
 */
export const highestSatellite = (g: GroundStation, positions: Float64Array, size: number, theta: number): number => {
  const o = stationInertial(g, theta)
  let best = -1
  let bestSin = Number.NEGATIVE_INFINITY
  for (let i = 0; i < size; i++) {
    const dx = positions[3 * i]! - o[0], dy = positions[3 * i + 1]! - o[1], dz = positions[3 * i + 2]! - o[2]
    // The sine of the elevation times |o|: the same factor for every satellite, so the order is the same.
    const sinEl = (dx * o[0] + dy * o[1] + dz * o[2]) / Math.sqrt(dx * dx + dy * dy + dz * dz)
    if (sinEl > bestSin) {
      bestSin = sinEl
      best = i
    }
  }
  return best
}

/** Serving satellite and its elevation / range at time t (re-computing positions). */
export const servingAt = (eph: Ephemeris, g: GroundStation, t: number, maskDeg = DEFAULT_ELEVATION_MASK_DEG, scratch?: Float64Array) => {
  const pos = scratch ?? new Float64Array(3 * eph.size)
  eph.positionsAt(t, pos)
  const v = visibleSatellites(g, pos, eph.size, eph.earthRotationAngleAt(t), maskDeg)
  return { serving: v.serving, elevationDeg: v.elevationsDeg[0] ?? Number.NaN, rangeKm: v.rangesKm[0] ?? Number.NaN, visible: v.satellites.length }
}

export interface Handover {
  /** Time of the change, seconds (resolved to `toleranceSeconds`). */
  readonly t: number
  readonly from: number
  readonly to: number
}

/**
 * When the serving satellite of a station changes over [from, to]: sampled every `stepSeconds`, each
 * change located by bisection to `toleranceSeconds`. -1 stands for "no satellite above the mask".
 */
export const handovers = (
  eph: Ephemeris,
  g: GroundStation,
  from: number,
  to: number,
  opts: { stepSeconds?: number; toleranceSeconds?: number; maskDeg?: number } = {}
): ReadonlyArray<Handover> => {
  const step = opts.stepSeconds ?? 5
  const tol = opts.toleranceSeconds ?? 0.01
  const mask = opts.maskDeg ?? DEFAULT_ELEVATION_MASK_DEG
  const pos = new Float64Array(3 * eph.size)
  const at = (t: number) => servingAt(eph, g, t, mask, pos).serving
  const out: Array<Handover> = []
  let t0 = from
  let s0 = at(from)
  while (t0 < to) {
    const t1 = Math.min(to, t0 + step)
    const s1 = at(t1)
    if (s1 !== s0) {
      let lo = t0, hi = t1
      while (hi - lo > tol) {
        const mid = (lo + hi) / 2
        if (at(mid) === s0) lo = mid
        else hi = mid
      }
      out.push({ t: hi, from: s0, to: at(hi) })
      // A second change inside the same step is picked up on the next pass from hi.
      t0 = hi
      s0 = at(hi)
      continue
    }
    t0 = t1
    s0 = s1
  }
  return out
}

/** Earth-fixed latitude and longitude (deg) of the point under satellite s, at Earth rotation angle theta. */
export const subSatellitePoint = (positions: Float64Array, s: number, theta: number): { latDeg: number; lonDeg: number } => {
  const x = positions[3 * s]!, y = positions[3 * s + 1]!, z = positions[3 * s + 2]!
  // Inertial longitude minus the Earth's rotation, wrapped to [-180, 180).
  const lon = (Math.atan2(y, x) - theta) / DEG
  return { latDeg: Math.asin(z / Math.hypot(x, y, z)) / DEG, lonDeg: ((((lon + 180) % 360) + 360) % 360) - 180 }
}

/** subSatellitePoint of every satellite, packed: [lat0, lon0, lat1, lon1, ...]. */
export const subSatellitePoints = (positions: Float64Array, size: number, theta: number): Float64Array => {
  const out = new Float64Array(2 * size)
  for (let s = 0; s < size; s++) {
    const p = subSatellitePoint(positions, s, theta)
    out[2 * s] = p.latDeg
    out[2 * s + 1] = p.lonDeg
  }
  return out
}
