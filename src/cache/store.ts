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
 * JavaScript Maps keep insertion order, so "touch" is delete + set and a segment's oldest entry is its
 * first key: O(1) per operation with no list of our own.
 */
export type EvictionPolicy = "lru" | "slru"
export const evictionPolicies: ReadonlyArray<EvictionPolicy> = ["lru", "slru"]

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

export class ChunkStore<P = undefined> {
  private readonly probation = new Map<number, Entry<P>>()
  private readonly protectedSeg = new Map<number, Entry<P>>()
  private readonly pinned = new Map<number, Entry<P>>()
  private protectedBytes = 0
  usedBytes = 0
  evictions = 0
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
    return this.probation.size + this.protectedSeg.size + this.pinned.size
  }

  has(key: number): boolean {
    return this.probation.has(key) || this.protectedSeg.has(key) || this.pinned.has(key)
  }

  /** The chunk under key (size and payload), or undefined; a hit counts as a use. */
  read(key: number): Entry<P> | undefined {
    const pin = this.pinned.get(key)
    if (pin) return pin
    const prot = this.protectedSeg.get(key)
    if (prot) {
      this.protectedSeg.delete(key)
      this.protectedSeg.set(key, prot)
      return prot
    }
    const e = this.probation.get(key)
    if (!e) return undefined
    this.probation.delete(key)
    if (this.policy === "slru") {
      this.protectedSeg.set(key, e)
      this.protectedBytes += e.bytes
      this.demote()
    } else this.probation.set(key, e)
    return e
  }

  /** Size of the chunk under key, or undefined (a use, like `read`). */
  get(key: number): number | undefined {
    return this.read(key)?.bytes
  }

  /** Store a chunk, evicting to fit; false if it cannot fit even after evicting everything unpinned. */
  put(key: number, bytes: number, payload?: P): boolean {
    if (this.pinned.has(key)) {
      const old = this.pinned.get(key)!
      if (bytes - old.bytes > this.capacityBytes - this.usedBytes) return false
      this.usedBytes += bytes - old.bytes
      this.pinned.set(key, { bytes, payload })
      return true
    }
    this.delete(key)
    if (bytes > this.capacityBytes - this.pinnedBytes()) return false
    while (this.usedBytes + bytes > this.capacityBytes) this.evictOne()
    this.probation.set(key, { bytes, payload })
    this.usedBytes += bytes
    return true
  }

  /** Drop the chunk under key, if stored. A key sits in one segment at most. */
  delete(key: number): boolean {
    let e = this.probation.get(key)
    if (e !== undefined) {
      this.probation.delete(key)
      this.usedBytes -= e.bytes
      return true
    }
    e = this.protectedSeg.get(key)
    if (e !== undefined) {
      this.protectedSeg.delete(key)
      this.usedBytes -= e.bytes
      this.protectedBytes -= e.bytes
      return true
    }
    e = this.pinned.get(key)
    if (e === undefined) return false
    this.pinned.delete(key)
    this.usedBytes -= e.bytes
    return true
  }

  /**
   * `read` then `delete` (a share handed on): the same store afterwards, with fewer map operations
   * under LRU, where the use that `read` records is undone by the delete. Under SLRU a use can demote
   * other chunks, so it is done in full.
   */
  take(key: number): Entry<P> | undefined {
    if (this.policy === "slru") {
      const e = this.read(key)
      if (e !== undefined) this.delete(key)
      return e
    }
    const e = this.probation.get(key)
    if (e === undefined) {
      const pin = this.pinned.get(key)
      if (pin !== undefined) this.delete(key)
      return pin
    }
    this.probation.delete(key)
    this.usedBytes -= e.bytes
    return e
  }

  /** Keep this chunk whatever happens (if stored). */
  pin(key: number): boolean {
    for (const seg of [this.probation, this.protectedSeg]) {
      const e = seg.get(key)
      if (e) {
        seg.delete(key)
        if (seg === this.protectedSeg) this.protectedBytes -= e.bytes
        this.pinned.set(key, e)
        return true
      }
    }
    return this.pinned.has(key)
  }

  unpin(key: number): void {
    const e = this.pinned.get(key)
    if (!e) return
    this.pinned.delete(key)
    this.probation.set(key, e)
  }

  pinnedBytes(): number {
    let n = 0
    for (const e of this.pinned.values()) n += e.bytes
    return n
  }

  /** Keys currently stored (any segment). */
  keys(): Array<number> {
    return [...this.pinned.keys(), ...this.protectedSeg.keys(), ...this.probation.keys()]
  }

  clear(): void {
    this.probation.clear()
    this.protectedSeg.clear()
    this.pinned.clear()
    this.usedBytes = 0
    this.protectedBytes = 0
  }

  private demote(): void {
    while (this.protectedBytes > this.protectedCap && this.protectedSeg.size > 0) {
      const [k, e] = this.protectedSeg.entries().next().value as [number, Entry<P>]
      this.protectedSeg.delete(k)
      this.protectedBytes -= e.bytes
      this.probation.set(k, e)
    }
  }

  private evictOne(): void {
    const seg = this.probation.size > 0 ? this.probation : this.protectedSeg
    const [k, e] = seg.entries().next().value as [number, Entry<P>]
    seg.delete(k)
    this.usedBytes -= e.bytes
    if (seg === this.protectedSeg) this.protectedBytes -= e.bytes
    this.evictions++
  }
}
