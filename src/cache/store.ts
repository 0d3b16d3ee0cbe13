/**
 * A satellite's chunk store: key -> (size, optional payload), bounded by a byte capacity.
 *
 * Eviction policies:
 * - `lru`: least recently used first.
 * - `slru` (segmented LRU): new chunks enter a probation segment; a second hit promotes them to a
 *   protected segment (at most `protectedShare` of the capacity); eviction takes probation's oldest
 *   first. A scan of one-off blocks (most of a request trace) cannot flush the prefixes that are reused,
 *   such as a system prompt every request shares.
 * Pinned chunks are never evicted (hot prefixes a strategy decides to keep); they count against capacity.
 *
 * Each segment is a doubly linked list of slots in recency order (oldest first), over typed arrays, with
 * a KeyIndex from key to slot: O(1) per operation, and no boxed key on any lookup (key-index.ts says why).
 */
import { KeyIndex } from "./key-index.js"
export const evictionPolicies = ["lru", "slru"] as const
export type EvictionPolicy = (typeof evictionPolicies)[number]

export interface StoreOptions {
  readonly capacityBytes: number
  readonly policy?: EvictionPolicy
  readonly protectedShare?: number
}

/** A stored item: its size, and its bytes when the owner keeps them. */
export interface Entry<P> {
  readonly bytes: number
  readonly payload: P | undefined
}

const PROBATION = 0
const PROTECTED = 1
const PINNED = 2
const NO_KEYS = new Float64Array(0)
const NO_SEGMENTS = new Uint8Array(0)
const NO_LINKS = new Int32Array(0)

export class ChunkStore<P = undefined> {
  private readonly index = new KeyIndex()
  /** Per slot: its key, entry, segment and list neighbours (-1: none); empty until the first put. */
  private keyOf = NO_KEYS
  private entries: Array<Entry<P> | undefined> = []
  private segOf = NO_SEGMENTS
  private prev = NO_LINKS
  private next = NO_LINKS
  /** Per segment: oldest and newest slot (-1: the segment is empty). */
  private readonly head = [-1, -1, -1]
  private readonly tail = [-1, -1, -1]
  /** Free slots, as a list through `next`. */
  private free = -1
  private slotsUsed = 0
  private protectedBytes = 0
  private pinnedTotal = 0
  usedBytes = 0
  evictions = 0
  /** Bytes ever stored by put (the store's write load: how fast it turns over under LRU). */
  writtenBytes = 0
  readonly capacityBytes: number
  readonly policy: EvictionPolicy
  private readonly protectedCap: number

  constructor(opts: StoreOptions | number) {
    const o = typeof opts === "number" ? { capacityBytes: opts } : opts
    this.capacityBytes = o.capacityBytes
    this.policy = o.policy ?? "lru"
    this.protectedCap = this.policy === "slru" ? (o.protectedShare ?? 0.8) * o.capacityBytes : 0
  }

  get size(): number {
    return this.index.size
  }

  has(key: number): boolean {
    return this.index.get(key) >= 0
  }

  /** The chunk under key (size and payload), or undefined; a hit counts as a use. */
  read(key: number): Entry<P> | undefined {
    const slot = this.index.get(key)
    if (slot < 0) return undefined
    const e = this.entries[slot]!
    const seg = this.segOf[slot]!
    if (seg === PINNED) return e
    if (seg === PROTECTED) {
      this.moveTo(PROTECTED, slot)
      return e
    }
    if (this.policy === "slru") {
      this.moveTo(PROTECTED, slot)
      this.protectedBytes += e.bytes
      this.demote()
    } else this.moveTo(PROBATION, slot)
    return e
  }

  /** Size of the chunk under key, or undefined (a use, like `read`). */
  get(key: number): number | undefined {
    return this.read(key)?.bytes
  }

  /** Store a chunk, evicting to fit; false if it cannot fit even after evicting everything unpinned. */
  put(key: number, bytes: number, payload?: P): boolean {
    const slot = this.index.get(key)
    if (slot >= 0 && this.segOf[slot] === PINNED) {
      const old = this.entries[slot]!
      if (bytes - old.bytes > this.capacityBytes - this.usedBytes) return false
      this.usedBytes += bytes - old.bytes
      this.pinnedTotal += bytes - old.bytes
      // A pinned chunk keeps its place among the pinned.
      this.entries[slot] = { bytes, payload }
      return true
    }
    if (slot >= 0) this.remove(slot)
    if (bytes > this.capacityBytes - this.pinnedTotal) return false
    while (this.usedBytes + bytes > this.capacityBytes) this.evictOne()
    const fresh = this.allocate(key)
    this.entries[fresh] = { bytes, payload }
    this.append(PROBATION, fresh)
    this.usedBytes += bytes
    this.writtenBytes += bytes
    return true
  }

  /** Drop the chunk under key, if stored. */
  delete(key: number): boolean {
    const slot = this.index.get(key)
    if (slot < 0) return false
    this.remove(slot)
    return true
  }

  /**
   * `read` then `delete` (a share handed on): the same store afterwards, without the use that `read`
   * records and the delete undoes. Under SLRU a use can demote other chunks, so it is done in full.
   */
  take(key: number): Entry<P> | undefined {
    if (this.policy === "slru") {
      const e = this.read(key)
      if (e !== undefined) this.delete(key)
      return e
    }
    const slot = this.index.get(key)
    if (slot < 0) return undefined
    const e = this.entries[slot]!
    this.remove(slot)
    return e
  }

  /** Keep this chunk whatever happens (if stored). */
  pin(key: number): boolean {
    const slot = this.index.get(key)
    if (slot < 0) return false
    const seg = this.segOf[slot]!
    if (seg === PINNED) return true
    const bytes = this.entries[slot]!.bytes
    if (seg === PROTECTED) this.protectedBytes -= bytes
    this.pinnedTotal += bytes
    this.moveTo(PINNED, slot)
    return true
  }

  unpin(key: number): void {
    const slot = this.index.get(key)
    if (slot < 0 || this.segOf[slot] !== PINNED) return
    this.pinnedTotal -= this.entries[slot]!.bytes
    this.moveTo(PROBATION, slot)
  }

  /** Keys currently stored: the pinned, then the protected, then probation, each oldest first. */
  keys(): Array<number> {
    const out: Array<number> = []
    for (const seg of [PINNED, PROTECTED, PROBATION]) for (let s = this.head[seg]!; s >= 0; s = this.next[s]!) out.push(this.keyOf[s]!)
    return out
  }

  private demote(): void {
    while (this.protectedBytes > this.protectedCap && this.head[PROTECTED]! >= 0) {
      const slot = this.head[PROTECTED]!
      this.protectedBytes -= this.entries[slot]!.bytes
      this.moveTo(PROBATION, slot)
    }
  }

  private evictOne(): void {
    const seg = this.head[PROBATION]! >= 0 ? PROBATION : PROTECTED
    const slot = this.head[seg]!
    this.remove(slot)
    this.evictions++
  }

  /** Forget a stored slot: out of the index, its list and the byte counts. */
  private remove(slot: number): void {
    const bytes = this.entries[slot]!.bytes
    const seg = this.segOf[slot]!
    this.usedBytes -= bytes
    if (seg === PROTECTED) this.protectedBytes -= bytes
    else if (seg === PINNED) this.pinnedTotal -= bytes
    this.unlink(slot)
    this.index.delete(this.keyOf[slot]!)
    this.entries[slot] = undefined
    this.next[slot] = this.free
    this.free = slot
  }

  private allocate(key: number): number {
    let slot = this.free
    if (slot >= 0) this.free = this.next[slot]!
    else {
      if (this.slotsUsed === this.keyOf.length) this.growSlots()
      slot = this.slotsUsed++
    }
    this.keyOf[slot] = key
    this.index.add(key, slot)
    return slot
  }

  /** Move a slot to the newest end of `seg` (its own segment: a touch). */
  private moveTo(seg: number, slot: number): void {
    this.unlink(slot)
    this.append(seg, slot)
  }

  private append(seg: number, slot: number): void {
    const last = this.tail[seg]!
    this.segOf[slot] = seg
    this.prev[slot] = last
    this.next[slot] = -1
    if (last >= 0) this.next[last] = slot
    else this.head[seg] = slot
    this.tail[seg] = slot
  }

  private unlink(slot: number): void {
    const seg = this.segOf[slot]!
    const p = this.prev[slot]!, n = this.next[slot]!
    if (p >= 0) this.next[p] = n
    else this.head[seg] = n
    if (n >= 0) this.prev[n] = p
    else this.tail[seg] = p
  }

  private growSlots(): void {
    const n = Math.max(8, 2 * this.keyOf.length)
    const keyOf = new Float64Array(n), segOf = new Uint8Array(n), prev = new Int32Array(n), next = new Int32Array(n)
    keyOf.set(this.keyOf)
    segOf.set(this.segOf)
    prev.set(this.prev)
    next.set(this.next)
    this.keyOf = keyOf
    this.segOf = segOf
    this.prev = prev
    this.next = next
  }
}
