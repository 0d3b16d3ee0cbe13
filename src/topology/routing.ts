/**
 * Shortest paths over the links that are up, by Dijkstra with an indexed binary heap on typed arrays.
 * Edge weight = a link's one-way delay (length / c + per-hop processing), so distances are seconds.
 * A `Router` owns its scratch arrays: make one per thread and reuse it; a pass allocates nothing.
 */
import type { IslGraph } from "./isl.js"

export interface ShortestPaths {
  /** Seconds from the source; +Infinity where unreachable. */
  readonly delay: Float64Array
  /** Previous satellite on the best path, -1 at the source or if unreachable. */
  readonly prev: Int32Array
  /** Link used to arrive, -1 at the source or if unreachable. */
  readonly prevLink: Int32Array
  /** Hop count of the best path. */
  readonly hops: Int32Array
}

export interface Router {
  /** Source-to-all pass. `linkDelay[l]` must be the delay of link l; links with up[l] = 0 are skipped. */
  fromSource(source: number, up: Uint8Array, linkDelay: Float64Array): ShortestPaths
  /**
   * Many sources at once: `start[v]` is v's delay before any link (+Infinity: not a source). Each
   * satellite gets its smallest start + path delay, e.g. the delay from it to the nearest of a set.
   */
  fromSources(start: Float64Array, up: Uint8Array, linkDelay: Float64Array): ShortestPaths
}

/**
 * Dijkstra's state: distances, the tree so far and the heap of satellites reached but not settled. A
 * pass is `reset`, `push` of the sources, then `settleNext` until it returns -1; stopping earlier leaves
 * every satellite settled so far with its final entries (a later one can only be settled later).
 */
class Search implements ShortestPaths {
  readonly delay: Float64Array
  readonly prev: Int32Array
  readonly prevLink: Int32Array
  readonly hops: Int32Array
  private readonly heap: Int32Array
  /** Position in the heap; -1 not reached, -2 settled. */
  readonly pos: Int32Array
  private size = 0

  constructor(private readonly g: IslGraph) {
    const n = g.size
    this.delay = new Float64Array(n)
    this.prev = new Int32Array(n)
    this.prevLink = new Int32Array(n)
    this.hops = new Int32Array(n)
    this.heap = new Int32Array(n)
    this.pos = new Int32Array(n)
  }

  reset(): void {
    this.delay.fill(Number.POSITIVE_INFINITY)
    this.prev.fill(-1)
    this.prevLink.fill(-1)
    this.hops.fill(0)
    this.pos.fill(-1)
    this.size = 0
  }

  push(v: number, d: number): void {
    this.delay[v] = d
    this.heap[this.size] = v
    this.pos[v] = this.size++
    this.siftUp(this.size - 1)
  }

  /** Settle the nearest satellite not settled yet and relax its links up; -1 when none is left. */
  settleNext(up: Uint8Array, linkDelay: Float64Array): number {
    if (this.size === 0) return -1
    const { g, heap, pos, delay, prev, prevLink, hops } = this
    const u = heap[0]!
    this.size--
    if (this.size > 0) {
      heap[0] = heap[this.size]!
      pos[heap[0]!] = 0
      this.siftDown(0)
    }
    pos[u] = -2
    const du = delay[u]!
    for (let k = g.adjStart[u]!, end = g.adjStart[u + 1]!; k < end; k++) {
      const l = g.adjLink[k]!
      if (up[l] === 0) continue
      const v = g.adjPeer[k]!
      const pv = pos[v]!
      if (pv === -2) continue
      const dv = du + linkDelay[l]!
      if (dv < delay[v]! || (dv === delay[v]! && u < prev[v]!)) {
        delay[v] = dv
        prev[v] = u
        prevLink[v] = l
        hops[v] = hops[u]! + 1
        if (pv === -1) {
          heap[this.size] = v
          pos[v] = this.size++
          this.siftUp(this.size - 1)
        } else this.siftUp(pv)
      }
    }
    return u
  }

  /** Ties broken by index so that the chosen paths are deterministic. */
  private less(i: number, j: number): boolean {
    const a = this.heap[i]!, b = this.heap[j]!
    const da = this.delay[a]!, db = this.delay[b]!
    return da < db || (da === db && a < b)
  }

  private swap(i: number, j: number): void {
    const heap = this.heap, pos = this.pos
    const a = heap[i]!, b = heap[j]!
    heap[i] = b; pos[b] = i
    heap[j] = a; pos[a] = j
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.size) break
      const r = l + 1
      const m = r < this.size && this.less(r, l) ? r : l
      if (!this.less(m, i)) break
      this.swap(m, i)
      i = m
    }
  }
}

export const makeRouter = (g: IslGraph): Router => {
  const search = new Search(g)
  const run = (up: Uint8Array, linkDelay: Float64Array): ShortestPaths => {
    while (search.settleNext(up, linkDelay) >= 0);
    return search
  }
  return {
    fromSource(source, up, linkDelay) {
      search.reset()
      search.push(source, 0)
      return run(up, linkDelay)
    },
    fromSources(start, up, linkDelay) {
      search.reset()
      for (let v = 0; v < g.size; v++) if (start[v]! < Number.POSITIVE_INFINITY) search.push(v, start[v]!)
      return run(up, linkDelay)
    }
  }
}

/**
 * The shortest-path tree from `source` grown only as far as it is asked: `reach(v)` runs Dijkstra until
 * v is settled, and the next ask resumes where it stopped. What has been reached is the same, entry for
 * entry, as fromSource's whole tree (the same steps in the same order, stopped early), and a route to a
 * satellite a few hops away settles tens of satellites instead of every one. It reads `up` and
 * `linkDelay` as they are when it grows: its owner drops it when they change.
 */
export class GrowingTree {
  private readonly search: Search

  constructor(g: IslGraph, source: number, private readonly up: Uint8Array, private readonly linkDelay: Float64Array) {
    this.search = new Search(g)
    this.search.reset()
    this.search.push(source, 0)
  }

  /** Previous satellite toward the source (final for every satellite reached). */
  get prev(): Int32Array {
    return this.search.prev
  }

  get prevLink(): Int32Array {
    return this.search.prevLink
  }

  /** Grow until satellite v is settled, or nothing more can be (v unreachable: prev[v] stays -1). */
  reach(v: number): void {
    const s = this.search
    while (s.pos[v] !== -2 && s.settleNext(this.up, this.linkDelay) >= 0);
  }

  /** Grow the whole tree. */
  complete(): void {
    while (this.search.settleNext(this.up, this.linkDelay) >= 0);
  }
}

/** The satellites of the best path from the pass's source to target (inclusive), or [] if unreachable. */
export const pathTo = (sp: ShortestPaths, target: number): Array<number> => {
  if (!Number.isFinite(sp.delay[target]!)) return []
  const out: Array<number> = []
  for (let v = target; v !== -1; v = sp.prev[v]!) out.push(v)
  return out.reverse()
}

/** The links of the best path from the pass's source to target, in travel order. */
export const linksTo = (sp: ShortestPaths, target: number): Array<number> => {
  const out: Array<number> = []
  if (!Number.isFinite(sp.delay[target]!)) return out
  for (let v = target; sp.prevLink[v]! !== -1; v = sp.prev[v]!) out.push(sp.prevLink[v]!)
  return out.reverse()
}
