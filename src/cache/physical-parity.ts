/**
 * The paper's sweeps on the physical model: a real P x N Walker delta shell at the swept altitude (53 deg,
 * Kepler orbits), servers placed by the same strategies on its ISL grid, and times from routed paths:
 * - on board (hop): the model runs on the centre satellite; a server's time is the shortest routed ISL
 *   path from the centre (light time + 0.1 ms per hop);
 * - from the ground (rotation, hop_rotation): the user stands under the centre satellite; a server's time
 *   is the uplink to the user's serving satellite plus the routed path from there.
 * Both add chunk processing x chunks held, like the paper. Where the paper assumes a straight line to a
 * satellite far beyond the horizon, the physical model must go through the ISL mesh, and its neighbour
 * distances follow the real geometry (inter-plane spacing shrinks toward the turning latitudes).
 */
import { Constellation, makeSnapshot, propagationSeconds, servingSatellite, stationInertial, walkerDelta } from "../topology/index.js"
import { type PaperModelParams, type PaperStrategy, paperStrategies, paperSweeps, type SweepParam, type SweepRow, sweepBase } from "./paper-model.js"
import { type CentredStrategy, strategyNamed } from "./strategies.js"

export interface PhysicalOptions {
  readonly inclinationDeg: number
  /** Time of the snapshot, s. */
  readonly at: number
}

export const physicalDefaults: PhysicalOptions = { inclinationDeg: 53, at: 0 }

export const physicalRetrieval = (strategy: PaperStrategy, p: PaperModelParams, o: PhysicalOptions = physicalDefaults) => {
  const c = Constellation.make([walkerDelta({ planes: p.planes, satsPerPlane: p.slotsPerPlane, altitudeKm: p.altitudeMeters / 1000, inclinationDeg: o.inclinationDeg, phasing: 1 % p.planes })])
  const snap = makeSnapshot(c).update(o.at)
  const centre = Constellation.satelliteAt(c, 0, p.centrePlane, p.centreSlot)
  const servers = (strategyNamed(strategy) as CentredStrategy).around({ constellation: c, graph: snap.graph }, centre, p.servers)
  const chunks = Math.ceil(p.kvcBytes / p.chunkBytes)
  let source = centre
  let uplink = 0
  if (strategy !== "hop") {
    // A user right under the centre satellite, at this instant.
    const x = snap.positions[3 * centre]!, y = snap.positions[3 * centre + 1]!, z = snap.positions[3 * centre + 2]!
    const theta = snap.ephemeris.earthRotationAngleAt(snap.t)
    const lat = (Math.asin(z / Math.hypot(x, y, z)) * 180) / Math.PI
    const lon = ((Math.atan2(y, x) - theta) * 180) / Math.PI
    const user = { latDeg: lat, lonDeg: lon }
    source = servingSatellite(user, snap.positions, c.size, theta, 0)
    const o3 = stationInertial(user, theta)
    uplink = propagationSeconds(Math.hypot(snap.positions[3 * source]! - o3[0], snap.positions[3 * source + 1]! - o3[1], snap.positions[3 * source + 2]! - o3[2]))
  }
  const routes = snap.routeFrom(source)
  const times = servers.map((s, i) => {
    const n = i < chunks ? Math.floor((chunks - 1 - i) / p.servers) + 1 : 0
    return { n, t: uplink + routes.delay[s]! + p.chunkProcessingSeconds * n }
  }).filter((x) => x.n > 0).map((x) => x.t)
  return {
    maxSeconds: Math.max(...times),
    minSeconds: Math.min(...times),
    avgSeconds: times.reduce((a, b) => a + b, 0) / times.length
  }
}

export const runPhysicalSweeps = (base: PaperModelParams, o: PhysicalOptions = physicalDefaults): ReadonlyArray<SweepRow> => {
  const b = sweepBase(base)
  const rows: Array<SweepRow> = []
  for (const strategy of paperStrategies) {
    for (const param of Object.keys(paperSweeps) as Array<SweepParam>) {
      for (const value of paperSweeps[param]) rows.push({ strategy, param, value, ...physicalRetrieval(strategy, { ...b, [param]: value }, o) })
    }
  }
  return rows
}
