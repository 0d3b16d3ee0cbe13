/**
 * The discrete-event queue of one shard: records in a growable pool, a binary min-heap of slot numbers
 * ordered by (time, src, seq). Pop order is total, so the same events pop in the same order whatever
 * else the shard holds.
 */
import { F as RecordF, I as RecordI, RecordBlock } from "./record.js"

// Local copies of the record's field tables: the transpiled modules read an imported binding through
// a getter on every access, which showed at ~5% of a replay's CPU profile on this hot path.
const F = RecordF
const I = RecordI

export class EventQueue {
  readonly pool: RecordBlock
  // The heap holds slot numbers; its ordering key is kept beside it, by heap position, so comparisons read
  // three flat arrays instead of reaching into 96-byte records.
  private heap: Int32Array
  private keyTime: Float64Array
  private keySrc: Int32Array
  private keySeq: Int32Array
  private free: Int32Array
  private freeTop = 0
  private used = 0
  size = 0

  constructor(initialCapacity = 1024) {
    this.pool = new RecordBlock(initialCapacity)
    this.heap = new Int32Array(initialCapacity)
    this.keyTime = new Float64Array(initialCapacity)
    this.keySrc = new Int32Array(initialCapacity)
    this.keySeq = new Int32Array(initialCapacity)
    this.free = new Int32Array(initialCapacity)
  }

  /** A free slot to fill before `push(slot)`. */
  alloc(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop]!
    if (this.used === this.pool.capacity) {
      this.pool.grow()
      const n = this.pool.capacity
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(n)
        b.set(a)
        return b
      }
      this.heap = grow(this.heap, (k) => new Int32Array(k))
      this.keyTime = grow(this.keyTime, (k) => new Float64Array(k))
      this.keySrc = grow(this.keySrc, (k) => new Int32Array(k))
      this.keySeq = grow(this.keySeq, (k) => new Int32Array(k))
      this.free = grow(this.free, (k) => new Int32Array(k))
    }
    return this.used++
  }

  release(slot: number): void {
    this.free[this.freeTop++] = slot
  }

  /** Heap position i orders before j. */
  private less(i: number, j: number): boolean {
    const ti = this.keyTime[i]!, tj = this.keyTime[j]!
    if (ti !== tj) return ti < tj
    const si = this.keySrc[i]!, sj = this.keySrc[j]!
    if (si !== sj) return si < sj
    return this.keySeq[i]! < this.keySeq[j]!
  }

  push(slot: number): void {
    const h = this.heap, kt = this.keyTime, ks = this.keySrc, kq = this.keySeq
    const time = this.pool.getF(slot, F.time), src = this.pool.getI(slot, I.src), seq = this.pool.getI(slot, I.seq)
    // Sift up with a hole: parents move down until the new key's place is found, then it is written once.
    let i = this.size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const tp = kt[parent]!
      if (tp < time || (tp === time && (ks[parent]! < src || (ks[parent] === src && kq[parent]! < seq)))) break
      h[i] = h[parent]!; kt[i] = tp; ks[i] = ks[parent]!; kq[i] = kq[parent]!
      i = parent
    }
    h[i] = slot; kt[i] = time; ks[i] = src; kq[i] = seq
  }

  /** Time of the earliest event, +Infinity if empty. */
  peekTime(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.keyTime[0]!
  }

  /** The earliest slot, left in the queue (see replaceTop); the queue must not be empty. */
  peekSlot(): number {
    return this.heap[0]!
  }

  /**
   * The earliest slot's record was rewritten in place (a relay's next hop, always later): re-key it and
   * sift it down. One sift instead of a pop's and a push's, and no copy of the record.
   */
  replaceTop(): void {
    const slot = this.heap[0]!
    this.siftDown(slot, this.pool.getF(slot, F.time), this.pool.getI(slot, I.src), this.pool.getI(slot, I.seq), this.size)
  }

  /** Remove and return the earliest slot (release it after use). */
  pop(): number {
    const top = this.heap[0]!
    const last = --this.size
    if (last > 0) this.siftDown(this.heap[last]!, this.keyTime[last]!, this.keySrc[last]!, this.keySeq[last]!, last)
    return top
  }

  /** Place (slot, key) from the root down in a heap of n entries, with a hole: children move up, it is written once. */
  private siftDown(slot: number, time: number, src: number, seq: number, n: number): void {
    const h = this.heap, kt = this.keyTime, ks = this.keySrc, kq = this.keySeq
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const m = r < n && this.less(r, l) ? r : l
      const tm = kt[m]!
      if (tm > time || (tm === time && (ks[m]! > src || (ks[m] === src && kq[m]! > seq)))) break
      h[i] = h[m]!; kt[i] = tm; ks[i] = ks[m]!; kq[i] = kq[m]!
      i = m
    }
    h[i] = slot; kt[i] = time; ks[i] = src; kq[i] = seq
  }

  /**
   * minTimePlus's depth-first stack: it holds at most one entry per level plus one, and a heap of
   * int32 slot numbers has fewer than 32 levels, so it never grows.
   */
  private readonly stack = new Int32Array(64)

  /**
   * The least (time + weight[at]) over queued events, where `at` is the record's I.at: the earliest
   * output time of this queue when weight[a] is the least delay from actor a to another shard. Weights
   * are >= 0, so a heap subtree whose root's time is already past the best cannot hold a better event:
   * only the events earlier than the answer are visited, a few dozen, not the whole queue. Events for
   * which `ignore(slot)` holds (deliveries that cannot send) do not count.
   */
  minTimePlus(weight: Float64Array, ignore?: (slot: number) => boolean): number {
    let best = Number.POSITIVE_INFINITY
    if (this.size === 0) return best
    const stack = this.stack
    let top = 0
    stack[top++] = 0
    while (top > 0) {
      const k = stack[--top]!
      const t = this.keyTime[k]!
      if (t >= best) continue
      const slot = this.heap[k]!
      const v = t + weight[this.pool.getI(slot, I.at)]!
      if (v < best && (ignore === undefined || !ignore(slot))) best = v
      const l = 2 * k + 1
      if (l < this.size) stack[top++] = l
      if (l + 1 < this.size) stack[top++] = l + 1
    }
    return best
  }

  /** Slots currently queued (unordered), for counting what is in flight at the end of a run. */
  *slots(): Generator<number> {
    for (let k = 0; k < this.size; k++) yield this.heap[k]!
  }
}
