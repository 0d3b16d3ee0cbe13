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
  const heap = new Int32Array(n)
  const pos = new Int32Array(n) // position in heap, -1 not in heap, -2 settled
  let size = 0
  const reset = () => {
    delay.fill(Number.POSITIVE_INFINITY)
    prev.fill(-1)
    prevLink.fill(-1)
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
    while (size > 0) size = settleRoot(g, up, linkDelay, heap, pos, delay, prev, prevLink, size)
    return { delay, prev, prevLink }
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
 * entry, as fromSource's whole tree, and a route to a satellite a few hops away settles tens of
 * satellites instead of every one. It reads `up` and `linkDelay` as they are when it grows: its owner
 * drops it when they change (they may lose links meanwhile, not gain them).
 *
 * Its queue is buckets of delay (Dial's), not a heap: a bucket is `width` seconds wide, no more than the
 * least delay of any link up, so no satellite can be reached from another of its own bucket, and the
 * satellites of the lowest bucket are all final: they are settled in any order, each in O(1). Why that
 * still gives fromSource's tree entry for entry: a satellite's delay is its least sum over the neighbours
 * settled before it, and its parent the least-numbered neighbour reaching it at that delay (the ties
 * rule of both passes); every neighbour a best path arrives from lies in an earlier bucket, so all are
 * settled first, whatever the order within a bucket. Buckets are a ring of lists: a satellite is queued
 * at most (the longest link's delay / width) + 1 buckets ahead of the one being settled. Trains' sources
 * grow ~22,000 such trees in the first 2,000 conversation requests of a hop_rotation replay; the heap's
 * O(log n) per satellite was most of their cost.
 */
export class GrowingTree {
  readonly prev: Int32Array
  readonly prevLink: Int32Array
  private readonly delay: Float64Array
  /** Where a satellite is: -2 settled, -1 not queued, else queued (its bucket's ring slot). */
  private readonly slot: Int32Array
  /** The bucket lists: first satellite per ring slot, and each queued satellite's neighbours in its list. */
  private readonly first: Int32Array
  private readonly after: Int32Array
  private readonly before: Int32Array
  /** Buckets per second (1 / width), and the ring's size less one (a power of two less one). */
  private readonly perSecond: number
  private readonly mask: number
  /** The lowest bucket that may hold anything, and how many satellites are queued. */
  private bucket = 0
  private queued = 1

  /** `width`: at most the least delay of a link up (seconds); `longest`: at least the greatest. */
  constructor(
    private readonly g: IslGraph, source: number, private readonly up: Uint8Array, private readonly linkDelay: Float64Array,
    width: number, longest: number
  ) {
    const n = g.size
    this.delay = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
    this.prev = new Int32Array(n).fill(-1)
    this.prevLink = new Int32Array(n).fill(-1)
    this.slot = new Int32Array(n).fill(-1)
    this.after = new Int32Array(n)
    this.before = new Int32Array(n)
    // A satellite is queued at most longest / width + 1 buckets past the one being settled.
    const ring = 2 ** Math.ceil(Math.log2(Math.ceil(longest / width) + 2))
    this.first = new Int32Array(ring).fill(-1)
    this.mask = ring - 1
    this.perSecond = 1 / width
    this.delay[source] = 0
    this.first[0] = source
    this.after[source] = -1
    this.before[source] = -1
    this.slot[source] = 0
  }

  /** Grow until satellite v is settled, or nothing more can be (v unreachable: prev[v] stays -1). */
  reach(v: number): void {
    if (this.slot[v] !== -2) this.grow(v)
  }

  /** Grow the whole tree. */
  complete(): void {
    this.grow(-1)
  }

  private grow(until: number): void {
    const { g, up, linkDelay, delay, prev, prevLink, slot, first, after, before, mask, perSecond } = this
    const { adjStart, adjLink, adjPeer } = g
    let bucket = this.bucket
    let queued = this.queued
    while (queued > 0 && (until < 0 || slot[until] !== -2)) {
      let k = bucket & mask
      while (first[k] === -1) k = ++bucket & mask
      // Settle the first of the lowest bucket.
      const u = first[k]!
      const next = after[u]!
      first[k] = next
      if (next !== -1) before[next] = -1
      queued--
      slot[u] = -2
      const du = delay[u]!
      for (let e = adjStart[u]!, end = adjStart[u + 1]!; e < end; e++) {
        const l = adjLink[e]!
        if (up[l] === 0) continue
        const v = adjPeer[e]!
        const sv = slot[v]!
        if (sv === -2) continue
        const dv = du + linkDelay[l]!
        if (dv < delay[v]!) {
          if (sv >= 0) {
            // Out of its bucket's list.
            const a = after[v]!, b = before[v]!
            if (b === -1) first[sv] = a
            else after[b] = a
            if (a !== -1) before[a] = b
            queued--
          }
          delay[v] = dv
          prev[v] = u
          prevLink[v] = l
          // Into the list of its bucket (dv / width, rounded down: at least one bucket past u's).
          const kv = Math.floor(dv * perSecond) & mask
          const head = first[kv]!
          after[v] = head
          before[v] = -1
          if (head !== -1) before[head] = v
          first[kv] = v
          slot[v] = kv
          queued++
        } else if (dv === delay[v]! && u < prev[v]!) {
          prev[v] = u
          prevLink[v] = l
        }
      }
    }
    this.bucket = bucket
    this.queued = queued
  }
}

/**
 * One step of makeRouter's pass: settle the heap's root and relax its links up now, ties broken by index
 * (GrowingTree's rule too, so a grown tree is the router's tree entry for entry). Returns the heap's new
 * size.
 */
const settleRoot = (
  g: IslGraph, up: Uint8Array, linkDelay: Float64Array, heap: Int32Array, pos: Int32Array, delay: Float64Array,
  prev: Int32Array, prevLink: Int32Array, size: number
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
      if (pv === -1) {
        heap[size] = v
        pos[v] = size++
        siftUp(heap, pos, delay, size - 1)
      } else siftUp(heap, pos, delay, pv)
    }
  }
  return size
}

// makeRouter's heap, ordered by delay, ties broken by index so that the chosen paths are deterministic;
// sifted with a hole rather than swaps.
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
