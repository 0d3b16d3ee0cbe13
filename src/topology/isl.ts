/**
 * Inter-satellite links: the +Grid pattern real constellations use. Every satellite links to its two
 * in-plane neighbours (slot +-1) and to the satellites of the same slot in the two adjacent planes. Links
 * join satellites of one shell only.
 *
 * Rules, each a setting because systems differ:
 * - seam: planes that go all the way around (RAAN spread 360 deg: Walker delta, or a catalog shell
 *   inferred to wrap) link the last plane to plane 0, slot shifted to undo the phasing; a Walker star
 *   (spread 180 deg, counter-rotating planes across the seam) and a patch of adjacent planes have an
 *   open seam. "auto" follows the spread; "wrap" and "cut" force either in every shell.
 * - polar cut-off: inter-plane lasers cannot track above a latitude (planes cross, relative speed is
 *   high), so inter-plane links are down while either end is above it.
 * - line of sight: a link is down while its straight segment dips below `minLineOfSightAltitudeKm`
 *   (atmospheric refraction and absorption).
 * - range: a link is down while longer than `maxRangeKm` (an optical terminal's reach; 5,000 km, of
 *   the order reported for Starlink's lasers, and above any +Grid link of the Walker presets).
 *
 * A shell inferred from a catalog gets its +Grid from irregular-grid.ts (gaps where slots are empty);
 * `crossShellLinks` adds, for each satellite, one link to the nearest satellite of another shell.
 */
import { DEG, EARTH_RADIUS_KM } from "./constants.js"
import { type Constellation, globalPlaneOf, planeSize } from "./constellation.js"
import { ephemerisOf } from "./ephemeris.js"
import { catalogShellGrid, crossShellPairs } from "./irregular-grid.js"

export interface IslRules {
  readonly seam: "auto" | "wrap" | "cut"
  readonly polarCutoffLatDeg: number
  readonly minLineOfSightAltitudeKm: number
  readonly maxRangeKm: number
  /** One more link per satellite, to the nearest satellite of another shell (mutual nearest, within range at t = 0). */
  readonly crossShellLinks: boolean
}

export const defaultIslRules: IslRules = { seam: "auto", polarCutoffLatDeg: 70, minLineOfSightAltitudeKm: 80, maxRangeKm: 5_000, crossShellLinks: false }

/** Whether a shell's last plane links to its first under these rules (see the module's doc). */
const seamWraps = (rules: IslRules, spreadDeg: number): boolean =>
  rules.seam === "wrap" || (rules.seam === "auto" && spreadDeg === 360)

export const LinkKind = { intraPlane: 0, interPlane: 1, crossShell: 2 } as const

/**
 * The links that exist (up or down), as parallel arrays, plus an adjacency in compressed-row form.
 * Neighbour order per satellite is fixed: previous slot, next slot, previous plane, next plane (absent
 * neighbours are -1 in `neighbours`).
 */
export interface IslGraph {
  readonly size: number
  readonly linkCount: number
  readonly linkA: Int32Array
  readonly linkB: Int32Array
  readonly linkKind: Uint8Array
  /** adjStart[i]..adjStart[i+1] index adjLink / adjPeer for satellite i. */
  readonly adjStart: Int32Array
  readonly adjLink: Int32Array
  readonly adjPeer: Int32Array
  /** 4 entries per satellite: prev slot, next slot, prev plane, next plane; -1 if no such link. */
  readonly neighbours: Int32Array
  /** 4 entries per satellite: the link id behind each of `neighbours`, or -1. */
  readonly neighbourLink: Int32Array
  /** Per shell, 1 if its last plane links to its first (the seam rule, and at least three planes). */
  readonly seamClosed: Uint8Array
}

/** Build the +Grid links of every shell under the given seam rule. */
export const plusGrid = (c: Constellation, rules: IslRules = defaultIslRules): IslGraph => {
  const linkA: Array<number> = []
  const linkB: Array<number> = []
  const kind: Array<number> = []
  const neighbours = new Int32Array(4 * c.size).fill(-1)
  const neighbourLink = new Int32Array(4 * c.size).fill(-1)
  /** A link a-b; slotA / slotB: its place among a's and b's four grid neighbours (-1: none, a cross-shell link). */
  const add = (a: number, b: number, k: number, slotA: number, slotB: number) => {
    const id = linkA.length
    linkA.push(a)
    linkB.push(b)
    kind.push(k)
    if (slotA < 0) return
    neighbours[4 * a + slotA] = b
    neighbourLink[4 * a + slotA] = id
    neighbours[4 * b + slotB] = a
    neighbourLink[4 * b + slotB] = id
  }
  const seamClosed = new Uint8Array(c.shells.length)
  c.shells.forEach((s, k) => {
    const wrap = seamWraps(rules, s.raanSpreadDeg)
    seamClosed[k] = wrap && s.planes >= 3 ? 1 : 0
    if (s.pattern === "catalog") {
      const grid = catalogShellGrid(c, k, wrap)
      for (const [a, b] of grid.inPlane) add(a, b, LinkKind.intraPlane, 1, 0)
      for (const [a, b] of grid.crossPlane) add(a, b, LinkKind.interPlane, 3, 2)
      return
    }
    const base = c.shellStart[k]!
    const N = s.satsPerPlane
    const P = s.planes
    const at = (p: number, q: number) => base + p * N + (((q % N) + N) % N)
    // In-plane ring (a plane of 1 or 2 satellites has no distinct ring links).
    if (N >= 3) for (let p = 0; p < P; p++) for (let q = 0; q < N; q++) add(at(p, q), at(p, q + 1), LinkKind.intraPlane, 1, 0)
    else if (N === 2) for (let p = 0; p < P; p++) add(at(p, 0), at(p, 1), LinkKind.intraPlane, 1, 0)
    for (let p = 0; p < P; p++) {
      const last = p === P - 1
      if (last && seamClosed[k] === 0) continue
      // Across the seam "plane P" is plane 0 one full RAAN turn later, whose slots the Walker phasing has
      // moved on by F: slot q of plane P is slot q + F of plane 0.
      const shift = last ? s.phasing : 0
      for (let q = 0; q < N; q++) add(at(p, q), last ? at(0, q + shift) : at(p + 1, q), LinkKind.interPlane, 3, 2)
    }
  })
  if (rules.crossShellLinks && c.shells.length > 1) {
    const pos = new Float64Array(3 * c.size)
    ephemerisOf(c).positionsAt(0, pos)
    for (const [a, b] of crossShellPairs(c, pos, rules.maxRangeKm)) add(a, b, LinkKind.crossShell, -1, -1)
  }
  const linkCount = linkA.length
  const deg = new Int32Array(c.size + 1)
  for (let l = 0; l < linkCount; l++) {
    deg[linkA[l]! + 1]!++
    deg[linkB[l]! + 1]!++
  }
  for (let i = 0; i < c.size; i++) deg[i + 1]! += deg[i]!
  const adjStart = deg.slice()
  const fill = deg.slice(0, c.size)
  const adjLink = new Int32Array(2 * linkCount)
  const adjPeer = new Int32Array(2 * linkCount)
  for (let l = 0; l < linkCount; l++) {
    const a = linkA[l]!
    const b = linkB[l]!
    adjLink[fill[a]!] = l
    adjPeer[fill[a]!++] = b
    adjLink[fill[b]!] = l
    adjPeer[fill[b]!++] = a
  }
  return {
    size: c.size, linkCount, linkA: Int32Array.from(linkA), linkB: Int32Array.from(linkB), linkKind: Uint8Array.from(kind),
    adjStart, adjLink, adjPeer, neighbours, neighbourLink, seamClosed
  }
}

/**
 * ISL hops between satellites a and b on their shell's +Grid, counted as planes apart plus slots apart,
 * each the shorter way round where the grid goes round (planes only across a closed seam: a patch of
 * planes or a star does not), Infinity across shells. Time-invariant: satellites keep their places in the
 * grid. A path estimate, not a route: it ignores the phase offset the seam's links undo, links that are
 * down, and a catalog plane's empty slots. It suits choosing the nearer of two satellites, where distance
 * in space misleads: a satellite on an ascending pass and one on a descending pass over the same city are
 * close in space and half the grid apart.
 */
export const gridHops = (c: Constellation, g: IslGraph, a: number, b: number): number => {
  const shell = c.shellOf[a]!
  if (c.shellOf[b] !== shell) return Number.POSITIVE_INFINITY
  const planes = c.shells[shell]!.planes
  const dp = Math.abs(c.planeOf[a]! - c.planeOf[b]!)
  const n = planeSize(c, globalPlaneOf(c, a))
  const ds = Math.abs(c.slotOf[a]! - c.slotOf[b]!)
  return (g.seamClosed[shell] === 1 ? Math.min(dp, planes - dp) : dp) + Math.min(ds, n - ds)
}

/**
 * Link state at one instant: whether each link is up and its length, from satellite positions
 * (3 * size, km). Writes into the given arrays; allocates nothing.
 */
export const linkStates = (
  g: IslGraph,
  rules: IslRules,
  positions: Float64Array,
  up: Uint8Array,
  lengthKm: Float64Array
): number => {
  const sinCut = Math.sin(rules.polarCutoffLatDeg * DEG)
  const minR = EARTH_RADIUS_KM + rules.minLineOfSightAltitudeKm
  const minR2 = minR * minR
  const maxD2 = rules.maxRangeKm * rules.maxRangeKm
  let count = 0
  for (let l = 0; l < g.linkCount; l++) {
    const a = 3 * g.linkA[l]!
    const b = 3 * g.linkB[l]!
    const ax = positions[a]!, ay = positions[a + 1]!, az = positions[a + 2]!
    const dx = positions[b]! - ax, dy = positions[b + 1]! - ay, dz = positions[b + 2]! - az
    const d2 = dx * dx + dy * dy + dz * dz
    lengthKm[l] = Math.sqrt(d2)
    // Out of range, or an end SGP4 could not place (NaN fails the comparison): down.
    let ok = d2 <= maxD2
    if (ok && g.linkKind[l] !== LinkKind.intraPlane && rules.polarCutoffLatDeg < 90) {
      // |lat| > cutoff  <=>  |z| / r > sin(cutoff)
      const ra = Math.sqrt(ax * ax + ay * ay + az * az)
      const bx = positions[b]!, by = positions[b + 1]!, bz = positions[b + 2]!
      const rb = Math.sqrt(bx * bx + by * by + bz * bz)
      if (Math.abs(az) > sinCut * ra || Math.abs(bz) > sinCut * rb) ok = false
    }
    if (ok) {
      // Closest point of segment a + s (b - a), s in [0, 1], to the Earth's centre.
      const s = d2 > 0 ? Math.min(1, Math.max(0, -(ax * dx + ay * dy + az * dz) / d2)) : 0
      const px = ax + s * dx, py = ay + s * dy, pz = az + s * dz
      if (px * px + py * py + pz * pz < minR2) ok = false
    }
    up[l] = ok ? 1 : 0
    if (ok) count++
  }
  return count
}
