/**
 * The +Grid of a shell inferred from a catalog, whose planes hold different numbers of satellites at
 * uneven spacing (isl.ts builds a Walker shell's by arithmetic). Argument of latitude at t = 0 (the
 * constellation's u0Rad) orders a plane and matches planes to each other:
 * - fore and aft: consecutive satellites of a plane, unless they are more than GAP_SLOTS nominal
 *   spacings apart, where a slot is empty: a gap, not a link across the hole (and never across half
 *   the plane);
 * - left and right: each satellite and the satellite of the adjacent plane nearest in argument of
 *   latitude, kept when each is the other's nearest (a terminal serves one link) and they are at most one
 *   nominal spacing apart. The last plane pairs with the first only when the planes go all around.
 * With 1.5 nominal spacings a Walker shell's grid comes out whole, and one missing slot (two spacings)
 * opens a gap: on a 22-per-plane shell at 550 km, links up to 24.5 deg (2,950 km) are kept and the
 * 32.7-deg (3,900 km) span over an empty slot is not.
 */
import type { Constellation } from "./constellation.js"

/** Consecutive satellites further apart than this many nominal spacings leave a gap. */
export const GAP_SLOTS = 1.5

const TWO_PI = 2 * Math.PI
const wrap2pi = (x: number) => ((x % TWO_PI) + TWO_PI) % TWO_PI
/** Signed smallest angle b - a in (-pi, pi]. */
const angleTo = (a: number, b: number) => {
  const d = wrap2pi(b - a)
  return d > Math.PI ? d - TWO_PI : d
}

export interface ShellGrid {
  /** (fore, aft) pairs: aft is the next slot of fore. */
  readonly inPlane: ReadonlyArray<readonly [number, number]>
  /** (left, right) pairs: right is in the next plane. */
  readonly crossPlane: ReadonlyArray<readonly [number, number]>
}

export const catalogShellGrid = (c: Constellation, shell: number, wraps: boolean): ShellGrid => {
  const s = c.shells[shell]!
  const spacing = TWO_PI / s.satsPerPlane
  const g0 = c.shellPlaneStart[shell]!
  const P = s.planes
  const inPlane: Array<readonly [number, number]> = []
  const crossPlane: Array<readonly [number, number]> = []
  for (let p = 0; p < P; p++) {
    const first = c.planeStart[g0 + p]!
    const n = c.planeStart[g0 + p + 1]! - first
    // A ring of n >= 3 closes; two satellites get one link at most.
    const links = n >= 3 ? n : n - 1
    for (let q = 0; q < links; q++) {
      const a = first + q, b = first + ((q + 1) % n)
      if (wrap2pi(c.u0Rad[b]! - c.u0Rad[a]!) <= GAP_SLOTS * spacing) inPlane.push([a, b])
    }
  }
  const nearestIn = (g: number, u: number): number => {
    let best = -1, bestD = Number.POSITIVE_INFINITY
    for (let j = c.planeStart[g]!; j < c.planeStart[g + 1]!; j++) {
      const d = Math.abs(angleTo(u, c.u0Rad[j]!))
      if (d < bestD) {
        bestD = d
        best = j
      }
    }
    return best
  }
  for (let p = 0; p < P; p++) {
    const last = p === P - 1
    if (last && (!wraps || P < 3)) continue
    const ga = g0 + p, gb = g0 + (last ? 0 : p + 1)
    for (let a = c.planeStart[ga]!; a < c.planeStart[ga + 1]!; a++) {
      const b = nearestIn(gb, c.u0Rad[a]!)
      if (b < 0 || nearestIn(ga, c.u0Rad[b]!) !== a) continue
      if (Math.abs(angleTo(c.u0Rad[a]!, c.u0Rad[b]!)) <= spacing) crossPlane.push([a, b])
    }
  }
  return { inPlane, crossPlane }
}

/**
 * Pairs (a, b) of satellites of different shells, each the other's nearest satellite outside its own
 * shell at the given positions (3 per satellite, km), within maxRangeKm. A uniform grid of cells of that
 * size keeps it near-linear.
 */
export const crossShellPairs = (c: Constellation, pos: Float64Array, maxRangeKm: number): Array<readonly [number, number]> => {
  const cell = Math.max(1, maxRangeKm)
  const cells = new Map<string, Array<number>>()
  const keyOf = (x: number, y: number, z: number) => `${Math.floor(x / cell)},${Math.floor(y / cell)},${Math.floor(z / cell)}`
  for (let i = 0; i < c.size; i++) {
    if (!Number.isFinite(pos[3 * i]!)) continue
    const k = keyOf(pos[3 * i]!, pos[3 * i + 1]!, pos[3 * i + 2]!)
    let list = cells.get(k)
    if (!list) cells.set(k, (list = []))
    list.push(i)
  }
  const nearest = new Int32Array(c.size).fill(-1)
  const max2 = maxRangeKm * maxRangeKm
  for (let i = 0; i < c.size; i++) {
    const x = pos[3 * i]!, y = pos[3 * i + 1]!, z = pos[3 * i + 2]!
    if (!Number.isFinite(x)) continue
    const cx = Math.floor(x / cell), cy = Math.floor(y / cell), cz = Math.floor(z / cell)
    let best = -1, bestD = max2
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) for (let dz = -1; dz <= 1; dz++) {
      for (const j of cells.get(`${cx + dx},${cy + dy},${cz + dz}`) ?? []) {
        if (c.shellOf[j] === c.shellOf[i]) continue
        const ex = pos[3 * j]! - x, ey = pos[3 * j + 1]! - y, ez = pos[3 * j + 2]! - z
        const d = ex * ex + ey * ey + ez * ez
        if (d < bestD || (d === bestD && j < best)) {
          bestD = d
          best = j
        }
      }
    }
    nearest[i] = best
  }
  const pairs: Array<readonly [number, number]> = []
  for (let i = 0; i < c.size; i++) {
    const j = nearest[i]!
    if (j > i && nearest[j] === i) pairs.push([i, j])
  }
  return pairs
}
