/**
 * Link windows: for each ISL, the intervals of [from, to] during which it is up. Sampled every
 * `stepSeconds` over the whole constellation, then every change located by bisection on the two
 * satellites of that link only, to `toleranceSeconds`. A window still open at `to` ends at `to`.
 *
 * Sampling can miss an outage shorter than the step; the default step (10 s) is far below the shortest
 * polar-region crossing of a LEO satellite (minutes).
 */
import type { Snapshot } from "./snapshot.js"
import { TopologyErrors } from "./errors.js"
import { linkStates } from "./isl.js"

export type Window = readonly [start: number, end: number]

export const linkWindows = (
  snap: Snapshot,
  from: number,
  to: number,
  opts: { stepSeconds?: number; toleranceSeconds?: number } = {}
): ReadonlyArray<ReadonlyArray<Window>> => {
  if (!(Number.isFinite(from) && Number.isFinite(to) && to >= from)) throw TopologyErrors.invalidSpan(from, to)
  const step = opts.stepSeconds ?? 10
  const tol = opts.toleranceSeconds ?? 1e-3
  const g = snap.graph
  const eph = snap.ephemeris
  const L = g.linkCount
  const open = new Float64Array(L).fill(Number.NaN)
  const out: Array<Array<Window>> = Array.from({ length: L }, () => [])
  // Single-link evaluation for bisection: positions of the two ends in a 6-slot scratch.
  const pos2 = new Float64Array(6)
  const one = new Float64Array(3)
  const upOne = new Uint8Array(1)
  const lenOne = new Float64Array(1)
  const single = { ...g, linkCount: 1, linkA: Int32Array.of(0), linkB: Int32Array.of(1), linkKind: new Uint8Array(1) }
  const isUp = (l: number, t: number): boolean => {
    eph.positionOf(g.linkA[l]!, t, one)
    pos2.set(one, 0)
    eph.positionOf(g.linkB[l]!, t, one)
    pos2.set(one, 3)
    single.linkKind[0] = g.linkKind[l]!
    linkStates(single, snap.rules, pos2, upOne, lenOne)
    return upOne[0] === 1
  }
  const positions = new Float64Array(3 * g.size)
  const prevUp = new Uint8Array(L)
  const curUp = new Uint8Array(L)
  const len = new Float64Array(L)
  eph.positionsAt(from, positions)
  linkStates(g, snap.rules, positions, prevUp, len)
  for (let l = 0; l < L; l++) if (prevUp[l]) open[l] = from
  for (let t0 = from; t0 < to; ) {
    const t1 = Math.min(to, t0 + step)
    eph.positionsAt(t1, positions)
    linkStates(g, snap.rules, positions, curUp, len)
    for (let l = 0; l < L; l++) {
      if (curUp[l] === prevUp[l]) continue
      let lo = t0, hi = t1
      const wasUp = prevUp[l] === 1
      while (hi - lo > tol) {
        const mid = (lo + hi) / 2
        if (isUp(l, mid) === wasUp) lo = mid
        else hi = mid
      }
      if (wasUp) {
        out[l]!.push([open[l]!, hi])
        open[l] = Number.NaN
      } else open[l] = hi
    }
    prevUp.set(curUp)
    t0 = t1
  }
  for (let l = 0; l < L; l++) if (!Number.isNaN(open[l]!)) out[l]!.push([open[l]!, to])
  return out
}
