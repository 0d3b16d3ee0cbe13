/**
 * The geometry of placement on the physical constellation, which the strategies (strategies.ts) are
 * built from: the k x k box of satellites around a centre on the real +Grid of its shell, the paper's
 * breadth-first order over the ISL grid, jump consistent hashing over all satellites, and the minimal
 * migration of S servers when the centre moves. Pure functions of (constellation, graph, centre, S[, key]).
 */
import { Constellation, type IslGraph } from "../topology/index.js"

const boxOffset = (k: number) => Math.floor((k - 1) / 2)

/**
 * Satellites of the k x k box around the centre, row (plane) by row, slot first. The box follows the ISL
 * grid, not raw indices: across a delta shell's seam "the same slot" of the next plane is the Walker
 * phasing's shifted slot, which is what the +Grid links join. Where a link is missing (a star shell's cut
 * seam) the step falls back to plane / slot arithmetic.
 */
export const boxAround = (c: Constellation.Constellation, g: IslGraph, centre: number, k: number): Array<number> => {
  const shell = c.shellOf[centre]!
  const s = c.shells[shell]!
  if (k > s.planes || k > s.satsPerPlane) throw new RangeError(`a ${k} x ${k} box does not fit shell ${s.name} (${s.planes} x ${s.satsPerPlane})`)
  // Grid steps: slot (-1/+1) and plane (-1/+1), via the ISL neighbour of that direction when it exists.
  const step = (v: number, dir: 0 | 1 | 2 | 3): number => {
    const n = g.neighbours[4 * v + dir]!
    if (n >= 0) return n
    const dp = dir === 2 ? -1 : dir === 3 ? 1 : 0
    const dq = dir === 0 ? -1 : dir === 1 ? 1 : 0
    return Constellation.satelliteAt(c, shell, c.planeOf[v]! + dp, c.slotOf[v]! + dq)
  }
  let corner = centre
  for (let i = 0; i < boxOffset(k); i++) corner = step(step(corner, 2), 0)
  const out: Array<number> = []
  for (let r = 0, rowStart = corner; r < k; r++, rowStart = step(rowStart, 3)) {
    for (let j = 0, v = rowStart; j < k; j++, v = step(v, 1)) out.push(v)
  }
  return distinct(c, g, centre, out)
}

/**
 * On a shell inferred from a catalog, a plane of fewer satellites than the box is wide brings the walk
 * back to a satellite it already holds; each repeat is replaced by the next satellite in breadth-first
 * order over the grid from the centre that the box does not hold, then (where gaps cut the grid) the
 * shell's other satellites in index order. A Walker shell's box has no repeats and is returned as is.
 */
const distinct = (c: Constellation.Constellation, g: IslGraph, centre: number, box: Array<number>): Array<number> => {
  if (new Set(box).size === box.length) return box
  const held = new Set<number>()
  const shell = c.shellOf[centre]!
  const near = bfsFrom(g, centre, g.size)
  const rest = Array.from({ length: c.shellStart[shell + 1]! - c.shellStart[shell]! }, (_, k) => c.shellStart[shell]! + k)
  const spare = [...new Set([...near, ...rest])].filter((v) => !box.includes(v))
  return box.map((v) => {
    if (!held.has(v)) {
      held.add(v)
      return v
    }
    const w = spare.shift()
    if (w === undefined) throw new RangeError(`the box around ${centre} does not fit its shell (${c.shells[shell]!.name})`)
    held.add(w)
    return w
  })
}

// neighbours[] order is (prev slot, next slot, prev plane, next plane); the paper's BFS order is
// prev plane, next slot, next plane, prev slot.
const PAPER_ORDER = [2, 1, 3, 0] as const

export const bfsFrom = (g: IslGraph, centre: number, count: number, allowed: (sat: number) => boolean = () => true): Array<number> => {
  const seen = new Set<number>([centre])
  const out: Array<number> = []
  const queue = [centre]
  for (let head = 0; head < queue.length && out.length < count; head++) {
    const v = queue[head]!
    out.push(v)
    for (const k of PAPER_ORDER) {
      const n = g.neighbours[4 * v + k]!
      if (n < 0 || seen.has(n) || !allowed(n)) continue
      seen.add(n)
      queue.push(n)
    }
  }
  return out
}

/**
 * Jump consistent hash (Lamping & Veach, 2014): bucket in [0, buckets) for a 64-bit key; moving from n
 * to n + 1 buckets relocates only 1/(n+1) of the keys. Written here because it is eight lines and the
 * npm packages for it are unmaintained; BigInt keeps the 64-bit LCG exact.
 */
export const jumpHash = (key: bigint, buckets: number): number => {
  let b = -1
  let j = 0
  let k = BigInt.asUintN(64, key)
  while (j < buckets) {
    b = j
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n)
    j = Math.floor(((b + 1) * 2 ** 31) / Number((k >> 33n) + 1n))
  }
  return b
}

/**
 * Baseline for striped blocks: S distinct satellites for block `blockKey` (share k on the k-th), each
 * the jump hash of (key, k, attempt) with later attempts where a satellite is already taken, since two
 * shares of one block on one satellite would overwrite each other.
 */
export const baselineServers = (satellites: number, blockKey: number, servers: number): Array<number> => {
  if (servers > satellites) throw new RangeError(`cannot place ${servers} shares on ${satellites} distinct satellites`)
  const out: Array<number> = []
  const taken = new Set<number>()
  for (let k = 0; k < servers; k++) {
    let s = -1
    for (let attempt = 0n; s < 0 || taken.has(s); attempt++) s = jumpHash(BigInt(blockKey) * 1_000_003n + BigInt(k) + 1n + attempt * 7_919n, satellites)
    taken.add(s)
    out.push(s)
  }
  return out
}

export interface Migration {
  /** Server i's satellite after the move. */
  readonly assignment: ReadonlyArray<number>
  /** Servers whose satellite changed: their chunks travel from `from` to `to` over the ISLs. */
  readonly moves: ReadonlyArray<{ readonly server: number; readonly from: number; readonly to: number }>
}

/**
 * Re-place S servers when the centre moves: servers whose satellite is still in the new placement stay;
 * the others move, in server order, to the new placement's satellites that nobody holds yet. For
 * `rotation` and a one-slot shift of the centre, that is exactly the column that left the box moving to
 * the column that entered it.
 */
export const migrate = (current: ReadonlyArray<number>, target: ReadonlyArray<number>): Migration => {
  const targetSet = new Set(target)
  const held = new Set(current.filter((s) => targetSet.has(s)))
  const free = target.filter((s) => !held.has(s))
  let next = 0
  const moves: Array<{ server: number; from: number; to: number }> = []
  const assignment = current.map((s, server) => {
    if (targetSet.has(s)) return s
    const to = free[next++]!
    moves.push({ server, from: s, to })
    return to
  })
  return { assignment, moves }
}
