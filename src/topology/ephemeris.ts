/**
 * Where the satellites are. An ephemeris writes Earth-centred inertial positions (km) for every
 * satellite at time t (seconds from the run's epoch) and tells the Earth's rotation angle at t, which is
 * all the link and ground models need. Two sources: `kepler` (circular orbits, the default: exact,
 * cheap, and what the Walker parameters describe) and `sgp4` (satellite.js from TLE / OMM sets).
 */
import { EARTH_ROTATION_RAD_S } from "./constants.js"
import type { Constellation } from "./constellation.js"
import { sgp4FromSatrecs } from "./sgp4.js"

export interface Ephemeris {
  readonly size: number
  /** Write x, y, z (km, inertial) of every satellite into out (length >= 3 * size). */
  positionsAt(t: number, out: Float64Array): void
  /** Write x, y, z of one satellite into out at offset 0. */
  positionOf(i: number, t: number, out: Float64Array): void
  /** Angle (rad) from the inertial x axis to the Greenwich meridian at t. */
  earthRotationAngleAt(t: number): number
}

/** Circular Kepler orbits; Greenwich is aligned with the inertial x axis at t = 0. */
export const kepler = (c: Constellation): Ephemeris => {
  const { size, radiusKm, raanRad, inclinationRad, u0Rad, meanMotionRadS } = c
  const cosRaan = raanRad.map(Math.cos)
  const sinRaan = raanRad.map(Math.sin)
  const cosInc = inclinationRad.map(Math.cos)
  const sinInc = inclinationRad.map(Math.sin)
  const write = (i: number, t: number, out: Float64Array, o: number): void => {
    const u = u0Rad[i]! + meanMotionRadS[i]! * t
    const cu = Math.cos(u)
    const su = Math.sin(u)
    const r = radiusKm[i]!
    const ci = cosInc[i]!
    out[o] = r * (cosRaan[i]! * cu - sinRaan[i]! * su * ci)
    out[o + 1] = r * (sinRaan[i]! * cu + cosRaan[i]! * su * ci)
    out[o + 2] = r * su * sinInc[i]!
  }
  return {
    size,
    positionsAt: (t, out) => {
      for (let i = 0; i < size; i++) write(i, t, out, 3 * i)
    },
    positionOf: (i, t, out) => write(i, t, out, 0),
    earthRotationAngleAt: (t) => EARTH_ROTATION_RAD_S * t
  }
}

/** A constellation's own ephemeris: SGP4 on its records for a catalog, circular Kepler orbits otherwise. */
export const ephemerisOf = (c: Constellation): Ephemeris =>
  c.catalog ? sgp4FromSatrecs(c.catalog.satrecs, new Date(c.catalog.epochMs)) : kepler(c)
