/**
 * SGP4 positions through satellite.js, the second ephemeris source. Use it to fly real TLEs, or a Walker
 * shell with drag and J2 (via `sgp4FromConstellation`). Positions are TEME, which for link geometry and
 * elevation is the same inertial frame as the Kepler source within the precision that matters here;
 * Earth rotation comes from GMST at the epoch + t.
 */
import { gstime, json2satrec, propagate, type SatRec } from "satellite.js"
import { EARTH_MU_KM3_S2 } from "./constants.js"
import type { Constellation } from "./constellation.js"
import type { Ephemeris } from "./ephemeris.js"

const DEFAULT_EPOCH = new Date("2026-01-01T00:00:00Z")

/** SGP4 positions of records at epoch + t, each propagated from its own epoch; NaN where SGP4 fails. */
export const sgp4FromSatrecs = (satrecs: ReadonlyArray<SatRec>, epoch: Date): Ephemeris => {
  const epochMs = epoch.getTime()
  const write = (i: number, t: number, out: Float64Array, o: number): void => {
    const pv = propagate(satrecs[i]!, new Date(epochMs + t * 1000))
    const p = pv?.position
    if (!p || typeof p === "boolean") {
      out[o] = out[o + 1] = out[o + 2] = Number.NaN
      return
    }
    out[o] = p.x
    out[o + 1] = p.y
    out[o + 2] = p.z
  }
  return {
    size: satrecs.length,
    positionsAt: (t, out) => {
      for (let i = 0; i < satrecs.length; i++) write(i, t, out, 3 * i)
    },
    positionOf: (i, t, out) => write(i, t, out, 0),
    earthRotationAngleAt: (t) => gstime(new Date(epochMs + t * 1000))
  }
}

/**
 * SGP4 for a Walker constellation: every satellite's mean elements as an OMM record at the epoch, so the
 * same plane / slot structure (and so the same ISLs) can be flown with SGP4's perturbations.
 */
export const sgp4FromConstellation = (c: Constellation, epoch: Date = DEFAULT_EPOCH): Ephemeris => {
  const satrecs: Array<SatRec> = []
  for (let i = 0; i < c.size; i++) {
    const a = c.radiusKm[i]!
    const revPerDay = (Math.sqrt(EARTH_MU_KM3_S2 / (a * a * a)) * 86400) / (2 * Math.PI)
    const deg = (rad: number) => ((((rad * 180) / Math.PI) % 360) + 360) % 360
    satrecs.push(
      json2satrec({
        OBJECT_NAME: `SAT-${i}`,
        OBJECT_ID: `SKY-${i}`,
        EPOCH: epoch.toISOString().replace("Z", ""),
        MEAN_MOTION: revPerDay,
        ECCENTRICITY: 0.0001,
        INCLINATION: deg(c.inclinationRad[i]!),
        RA_OF_ASC_NODE: deg(c.raanRad[i]!),
        ARG_OF_PERICENTER: 0,
        MEAN_ANOMALY: deg(c.u0Rad[i]!),
        NORAD_CAT_ID: 90000 + (i % 9999),
        ELEMENT_SET_NO: 999,
        BSTAR: 0,
        MEAN_MOTION_DOT: 0,
        MEAN_MOTION_DDOT: 0
      })
    )
  }
  return sgp4FromSatrecs(satrecs, epoch)
}
