/**
 * A constellation flattened into typed arrays: satellite i has a shell, a plane and a slot, and the
 * Keplerian elements of a circular orbit. Hot loops (positions, links, routing) index these arrays and
 * never allocate per-satellite objects, which is what lets 10,000 satellites update in a few milliseconds.
 *
 * Satellite numbering: shell by shell, plane by plane, slot by slot (i = planeStart[plane] + slot; for a
 * Walker shell shellStart + plane * N + slot), so contiguous index ranges are contiguous orbital planes,
 * the unit the runtime shards by. A constellation inferred from a catalog (catalog/build.ts) has planes of
 * different sizes and carries each satellite's SGP4 record (`catalog`), which its ephemeris flies.
 */
import type { SatRec } from "satellite.js"
import { DEG, EARTH_MU_KM3_S2, EARTH_RADIUS_KM } from "./constants.js"
import { TopologyErrors } from "./errors.js"
import { type Shell, shellSize } from "./shell.js"

export interface Constellation {
  readonly shells: ReadonlyArray<Shell>
  readonly size: number
  /** First satellite of each shell; length shells + 1. */
  readonly shellStart: Int32Array
  /** Global plane number of each shell's plane 0; length shells + 1. */
  readonly shellPlaneStart: Int32Array
  readonly planeCount: number
  /** First satellite of each global plane; length planeCount + 1. */
  readonly planeStart: Int32Array
  readonly shellOf: Uint16Array
  /** Plane within the satellite's shell. */
  readonly planeOf: Int32Array
  /** Slot (in-plane index) of the satellite. */
  readonly slotOf: Int32Array
  readonly radiusKm: Float64Array
  readonly raanRad: Float64Array
  readonly inclinationRad: Float64Array
  /** Argument of latitude at t = 0, radians. */
  readonly u0Rad: Float64Array
  /** Mean motion, rad/s. */
  readonly meanMotionRadS: Float64Array
  /** A catalog's satellites: their SGP4 records and the instant that is t = 0 (ms since 1970, UTC). */
  readonly catalog?: CatalogOrbits
}

export interface CatalogOrbits {
  readonly epochMs: number
  readonly satrecs: ReadonlyArray<SatRec>
  readonly names: ReadonlyArray<string>
  readonly noradIds: Int32Array
}

const validateShell = (s: Shell, k: number): void => {
  const bad = (field: string, value: unknown, expected: string) => TopologyErrors.invalidShell(`shells[${k}].${field}`, value, expected)
  if (s.pattern !== "delta" && s.pattern !== "star") throw bad("pattern", s.pattern, "delta or star (catalog shells are built from their records: catalog/build.ts)")
  if (!Number.isInteger(s.planes) || s.planes < 1) throw bad("planes", s.planes, "an integer >= 1")
  if (!Number.isInteger(s.satsPerPlane) || s.satsPerPlane < 1) throw bad("satsPerPlane", s.satsPerPlane, "an integer >= 1")
  if (!Number.isInteger(s.phasing) || s.phasing < 0 || s.phasing >= Math.max(1, s.planes))
    throw bad("phasing", s.phasing, `an integer in [0, ${s.planes})`)
  if (!(s.altitudeKm >= 100 && s.altitudeKm <= 50_000)) throw bad("altitudeKm", s.altitudeKm, "a number in [100, 50000] km")
  if (!(s.inclinationDeg >= 0 && s.inclinationDeg <= 180)) throw bad("inclinationDeg", s.inclinationDeg, "a number in [0, 180] deg")
  if (!(s.raanSpreadDeg > 0 && s.raanSpreadDeg <= 360)) throw bad("raanSpreadDeg", s.raanSpreadDeg, "a number in (0, 360] deg")
  if (!Number.isFinite(s.raan0Deg)) throw bad("raan0Deg", s.raan0Deg, "a finite number of degrees")
}

/** The per-satellite arrays of a constellation of `size` satellites, zeroed, to fill satellite by satellite. */
export const satelliteArrays = (size: number) => ({
  shellOf: new Uint16Array(size),
  planeOf: new Int32Array(size),
  slotOf: new Int32Array(size),
  radiusKm: new Float64Array(size),
  raanRad: new Float64Array(size),
  inclinationRad: new Float64Array(size),
  u0Rad: new Float64Array(size),
  meanMotionRadS: new Float64Array(size)
})

/** Build a constellation from one or more shells (validated; a TopologyError names the bad field). */
export const make = (shells: ReadonlyArray<Shell>): Constellation => {
  if (shells.length === 0) throw TopologyErrors.invalidShell("shells", "[]", "at least one shell")
  shells.forEach(validateShell)
  const size = shells.reduce((n, s) => n + shellSize(s), 0)
  const shellStart = new Int32Array(shells.length + 1)
  const shellPlaneStart = new Int32Array(shells.length + 1)
  const planeStart = new Int32Array(shells.reduce((n, s) => n + s.planes, 0) + 1)
  const { shellOf, planeOf, slotOf, radiusKm, raanRad, inclinationRad, u0Rad, meanMotionRadS } = satelliteArrays(size)
  let i = 0
  shells.forEach((s, k) => {
    shellStart[k] = i
    shellPlaneStart[k + 1] = shellPlaneStart[k]! + s.planes
    const a = EARTH_RADIUS_KM + s.altitudeKm
    const n = Math.sqrt(EARTH_MU_KM3_S2 / (a * a * a))
    const total = s.planes * s.satsPerPlane
    for (let p = 0; p < s.planes; p++) {
      const raan = (s.raan0Deg + (p * s.raanSpreadDeg) / s.planes) * DEG
      planeStart[shellPlaneStart[k]! + p] = i
      for (let q = 0; q < s.satsPerPlane; q++, i++) {
        shellOf[i] = k
        planeOf[i] = p
        slotOf[i] = q
        radiusKm[i] = a
        raanRad[i] = raan
        inclinationRad[i] = s.inclinationDeg * DEG
        // Walker phasing: in-plane spacing 360/N, plus F * 360 / T per plane.
        u0Rad[i] = 2 * Math.PI * (q / s.satsPerPlane + (s.phasing * p) / total)
        meanMotionRadS[i] = n
      }
    }
  })
  shellStart[shells.length] = size
  planeStart[planeStart.length - 1] = size
  return {
    shells, size, shellStart, shellPlaneStart, planeCount: shellPlaneStart[shells.length]!, planeStart,
    shellOf, planeOf, slotOf, radiusKm, raanRad, inclinationRad, u0Rad, meanMotionRadS
  }
}

/** Index of the satellite at (shell, plane, slot), the plane taken modulo the shell's planes and the slot modulo that plane's satellites. */
export const satelliteAt = (c: Constellation, shell: number, plane: number, slot: number): number => {
  const s = c.shells[shell]!
  const g = c.shellPlaneStart[shell]! + (((plane % s.planes) + s.planes) % s.planes)
  const first = c.planeStart[g]!
  const n = c.planeStart[g + 1]! - first
  return first + (((slot % n) + n) % n)
}

/** Satellites in global plane g. */
export const planeSize = (c: Constellation, g: number): number => c.planeStart[g + 1]! - c.planeStart[g]!

/** Global plane number (over all shells) of satellite i. */
export const globalPlaneOf = (c: Constellation, i: number): number => c.shellPlaneStart[c.shellOf[i]!]! + c.planeOf[i]!
