/**
 * The constellation's state at one instant: positions, which links are up, their lengths and delays.
 * A snapshot is mutable scratch owned by one thread: `update(t)` rewrites it in place so a run can
 * recompute the world many times per simulated second without allocating.
 */
import { type Constellation } from "./constellation.js"
import { defaultLinkModel, type LinkModel, propagationSeconds } from "./delay.js"
import type { Ephemeris } from "./ephemeris.js"
import { ephemerisOf } from "./ephemeris.js"
import { defaultIslRules, type IslGraph, type IslRules, linkStates, plusGrid } from "./isl.js"
import { GrowingTree, makeRouter, type Router, type ShortestPaths } from "./routing.js"

export interface Snapshot {
  readonly constellation: Constellation
  readonly ephemeris: Ephemeris
  readonly graph: IslGraph
  readonly rules: IslRules
  readonly linkModel: LinkModel
  readonly positions: Float64Array
  readonly up: Uint8Array
  readonly lengthKm: Float64Array
  /** One-way delay of each link (propagation + per-hop processing), seconds. */
  readonly linkDelay: Float64Array
  /** Time of the last update, seconds; NaN before the first. */
  readonly t: number
  readonly linksUp: number
  update(t: number): Snapshot
  /** Source-to-all shortest paths over the links that are up now (result reused by the next call). */
  routeFrom(source: number): ShortestPaths
  /**
   * The same tree as routeFrom's, grown only as far as it is asked (valid until the next update; `up`
   * may lose links meanwhile, not gain them: its buckets are sized on the links up at update).
   */
  growFrom(source: number): GrowingTree
  /**
   * Per satellite, the least start[v] + path delay over links up now, or over the links `over` marks
   * (Router.fromSources); a scratch array reused by the next call.
   */
  delaysToNearest(start: Float64Array, over?: Uint8Array): Float64Array
}

export interface SnapshotOptions {
  readonly ephemeris?: Ephemeris
  readonly rules?: IslRules
  readonly linkModel?: LinkModel
}

export const makeSnapshot = (c: Constellation, opts: SnapshotOptions = {}): Snapshot => {
  const ephemeris = opts.ephemeris ?? ephemerisOf(c)
  const rules = opts.rules ?? defaultIslRules
  const linkModel = opts.linkModel ?? defaultLinkModel
  const graph = plusGrid(c, rules)
  const positions = new Float64Array(3 * c.size)
  const up = new Uint8Array(graph.linkCount)
  const lengthKm = new Float64Array(graph.linkCount)
  const linkDelay = new Float64Array(graph.linkCount)
  let router: Router | undefined
  // GrowingTree's bucket width (a hair under the least delay of a link up, so that rounding never puts a
  // satellite in the bucket of its parent) and the greatest such delay.
  let width = 1
  let longest = 1
  const snap = {
    constellation: c, ephemeris, graph, rules, linkModel, positions, up, lengthKm, linkDelay,
    t: Number.NaN,
    linksUp: 0,
    update(t: number) {
      ephemeris.positionsAt(t, positions)
      snap.linksUp = linkStates(graph, rules, positions, up, lengthKm)
      const hop = linkModel.perHopProcessingSeconds
      let least = Number.POSITIVE_INFINITY
      longest = 0
      for (let l = 0; l < graph.linkCount; l++) {
        linkDelay[l] = propagationSeconds(lengthKm[l]!) + hop
        if (up[l] === 0) continue
        least = Math.min(least, linkDelay[l]!)
        longest = Math.max(longest, linkDelay[l]!)
      }
      width = least < Number.POSITIVE_INFINITY ? least * (1 - 1e-9) : 1
      longest = Math.max(longest, width)
      snap.t = t
      return snap
    },
    routeFrom(source: number) {
      router ??= makeRouter(graph)
      return router.fromSource(source, up, linkDelay)
    },
    growFrom(source: number) {
      return new GrowingTree(graph, source, up, linkDelay, width, longest)
    },
    /** Shortest delays over the links up now from every satellite to the nearest of a set (see Router.fromSources). */
    delaysToNearest(start: Float64Array, over?: Uint8Array) {
      router ??= makeRouter(graph)
      return router.fromSources(start, over ?? up, linkDelay).delay
    }
  }
  return snap
}
