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

export const makeRouter = (g: IslGraph): Router => {
  const n = g.size
  const delay = new Float64Array(n)
  const prev = new Int32Array(n)
  const prevLink = new Int32Array(n)
  const hops = new Int32Array(n)
  const heap = new Int32Array(n)
  const pos = new Int32Array(n) // position in heap, -1 not in heap, -2 settled
  let size = 0
  const reset = () => {
    delay.fill(Number.POSITIVE_INFINITY)
    prev.fill(-1)
    prevLink.fill(-1)
    hops.fill(0)
    pos.fill(-1)
    size = 0
  }
  const push = (v: number, d: number) => {
    delay[v] = d
    heap[size] = v
    pos[v] = size++
    siftUp(heap, pos, delay, size - 1)
  }
  const run = (up: Uint8Array, linkDelay: Float64Array): ShortestPaths => {
    while (size > 0) size = settleRoot(g, up, linkDelay, heap, pos, delay, prev, prevLink, hops, size)
    return { delay, prev, prevLink, hops }
  }
  return {
    fromSource(source, up, linkDelay) {
      reset()
      push(source, 0)
      return run(up, linkDelay)
    },
    fromSources(start, up, linkDelay) {
      reset()
      for (let v = 0; v < n; v++) if (start[v]! < Number.POSITIVE_INFINITY) push(v, start[v]!)
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
 *
 * It shares the pass's step (settleRoot, a module function taking its arrays) with makeRouter, not the
 * router's closures: a router is one closure per snapshot, which V8 compiles with its arrays as
 * constants; the same closures made once per tree lost that and ran whole passes 1.7x slower, and a
 * class shared by both ran the router's passes ~10% slower. The module function costs neither (router
 * pass 101-116 us against 121-147 us before, topology-bench, three rounds).
 */
export class GrowingTree {
  readonly prev: Int32Array
  readonly prevLink: Int32Array
  private readonly delay: Float64Array
  private readonly heap: Int32Array
  /** Position in the heap; -1 not reached, -2 settled. */
  private readonly pos: Int32Array
  private size = 1

  constructor(private readonly g: IslGraph, source: number, private readonly up: Uint8Array, private readonly linkDelay: Float64Array) {
    const n = g.size
    this.delay = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
    this.prev = new Int32Array(n).fill(-1)
    this.prevLink = new Int32Array(n).fill(-1)
    this.heap = new Int32Array(n)
    this.pos = new Int32Array(n).fill(-1)
    this.delay[source] = 0
    this.heap[0] = source
    this.pos[source] = 0
  }

  /** Grow until satellite v is settled, or nothing more can be (v unreachable: prev[v] stays -1). */
  reach(v: number): void {
    this.grow(v)
  }

  /** Grow the whole tree. */
  complete(): void {
    this.grow(-1)
  }

  private grow(until: number): void {
    const { g, heap, pos, delay, prev, prevLink, up, linkDelay } = this
    let size = this.size
    while (size > 0 && (until < 0 || pos[until] !== -2)) size = settleRoot(g, up, linkDelay, heap, pos, delay, prev, prevLink, undefined, size)
    this.size = size
  }
}

/**
 * One step of both passes (makeRouter's and GrowingTree's): settle the heap's root and relax its links
 * up now, ties broken by index, so a grown tree is the router's tree entry for entry. `hops` (the
 * router's hop counts) may be absent. Returns the heap's new size.
 */
const settleRoot = (
  g: IslGraph, up: Uint8Array, linkDelay: Float64Array, heap: Int32Array, pos: Int32Array, delay: Float64Array,
  prev: Int32Array, prevLink: Int32Array, hops: Int32Array | undefined, size: number
): number => {
  const u = heap[0]!
  size--
  if (size > 0) {
    heap[0] = heap[size]!
    pos[heap[0]!] = 0
    siftDown(heap, pos, delay, size)
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
      if (hops !== undefined) hops[v] = hops[u]! + 1
      if (pv === -1) {
        heap[size] = v
        pos[v] = size++
        siftUp(heap, pos, delay, size - 1)
      } else siftUp(heap, pos, delay, pv)
    }
  }
  return size
}

// The heap of both passes (makeRouter's and GrowingTree's), ordered by delay, ties broken by index so
// that the chosen paths are deterministic; sifted with a hole rather than swaps.
const before = (delay: Float64Array, a: number, b: number): boolean => {
  const da = delay[a]!, db = delay[b]!
  return da < db || (da === db && a < b)
}

const siftUp = (heap: Int32Array, pos: Int32Array, delay: Float64Array, i: number): void => {
  const v = heap[i]!
  while (i > 0) {
    const p = (i - 1) >> 1
    const w = heap[p]!
    if (!before(delay, v, w)) break
    heap[i] = w
    pos[w] = i
    i = p
  }
  heap[i] = v
  pos[v] = i
}

const siftDown = (heap: Int32Array, pos: Int32Array, delay: Float64Array, size: number): void => {
  const v = heap[0]!
  let i = 0
  for (;;) {
    const l = 2 * i + 1
    if (l >= size) break
    const r = l + 1
    const m = r < size && before(delay, heap[r]!, heap[l]!) ? r : l
    const w = heap[m]!
    if (!before(delay, w, v)) break
    heap[i] = w
    pos[w] = i
    i = m
  }
  heap[i] = v
  pos[v] = i
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
