/**
 * A Constellation from an inferred structure: satellites numbered shell by shell, plane by plane, slot by
 * slot like a Walker one, with each plane's own size in `planeStart`, each satellite's mean elements at
 * T in the Keplerian arrays (what placement and the +Grid read), and its SGP4 record in `catalog` (what
 * the ephemeris flies).
 */
import type { SatRec } from "satellite.js"
import { DEG } from "../constants.js"
import { type Constellation, satelliteArrays } from "../constellation.js"
import type { Shell } from "../shell.js"
import type { Inference } from "./infer.js"

export const constellationOf = (inference: Inference, atMs: number): Constellation => {
  const shells: Array<Shell> = inference.shells.map((s, k) => {
    const first = s.planes[0]!.raanDeg
    const last = s.planes[s.planes.length - 1]!.raanDeg
    const spread = s.wraps ? 360 : Math.max(1e-6, ((last - first + 360) % 360) * (s.planes.length / Math.max(1, s.planes.length - 1)))
    return {
      name: `shell-${k + 1}-${s.altitudeKm.toFixed(0)}km-${s.inclinationDeg.toFixed(1)}deg`,
      pattern: "catalog", planes: s.planes.length, satsPerPlane: s.slotsPerPlane, phasing: 0,
      altitudeKm: s.altitudeKm, inclinationDeg: s.inclinationDeg, raanSpreadDeg: Math.min(360, spread), raan0Deg: first
    }
  })
  const size = inference.shells.reduce((n, s) => n + s.planes.reduce((m, p) => m + p.satellites.length, 0), 0)
  const planeCount = inference.shells.reduce((n, s) => n + s.planes.length, 0)
  const shellStart = new Int32Array(shells.length + 1)
  const shellPlaneStart = new Int32Array(shells.length + 1)
  const planeStart = new Int32Array(planeCount + 1)
  const { shellOf, planeOf, slotOf, radiusKm, raanRad, inclinationRad, u0Rad, meanMotionRadS } = satelliteArrays(size)
  const satrecs: Array<SatRec> = []
  const names: Array<string> = []
  const noradIds = new Int32Array(size)
  let i = 0
  let g = 0
  inference.shells.forEach((s, k) => {
    shellStart[k] = i
    shellPlaneStart[k] = g
    s.planes.forEach((p, pi) => {
      planeStart[g++] = i
      p.satellites.forEach((m, q) => {
        shellOf[i] = k
        planeOf[i] = pi
        slotOf[i] = q
        radiusKm[i] = m.radiusKm
        raanRad[i] = m.raanRad
        inclinationRad[i] = m.inclinationDeg * DEG
        u0Rad[i] = m.uRad
        meanMotionRadS[i] = m.meanMotionRadS
        satrecs.push(m.record.satrec)
        names.push(m.record.name)
        noradIds[i] = m.record.noradId
        i++
      })
    })
  })
  shellStart[shells.length] = size
  shellPlaneStart[shells.length] = planeCount
  planeStart[planeCount] = size
  return {
    shells, size, shellStart, shellPlaneStart, planeCount, planeStart, shellOf, planeOf, slotOf,
    radiusKm, raanRad, inclinationRad, u0Rad, meanMotionRadS,
    catalog: { epochMs: atMs, satrecs, names, noradIds }
  }
}
