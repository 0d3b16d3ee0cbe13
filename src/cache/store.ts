/**
 * A satellite's chunk store: key -> stored size in bytes, bounded by a byte capacity, least recently used
 * evicted first. A JavaScript Map keeps insertion order, so "touch" is delete + set and the oldest entry
 * is the first key: O(1) per operation with no list of our own.
 */
export class ChunkStore {
  private readonly entries = new Map<number, number>()
  usedBytes = 0
  evictions = 0

  constructor(readonly capacityBytes: number) {}

  get size(): number {
    return this.entries.size
  }

  /** Size of the chunk under key, or undefined; a hit makes it most recently used. */
  get(key: number): number | undefined {
    const v = this.entries.get(key)
    if (v === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, v)
    return v
  }

  has(key: number): boolean {
    return this.entries.has(key)
  }

  /** Store a chunk, evicting least recently used ones to fit; false if it can never fit. */
  put(key: number, bytes: number): boolean {
    if (bytes > this.capacityBytes) return false
    const old = this.entries.get(key)
    if (old !== undefined) {
      this.entries.delete(key)
      this.usedBytes -= old
    }
    while (this.usedBytes + bytes > this.capacityBytes) {
      const [k, v] = this.entries.entries().next().value as [number, number]
      this.entries.delete(k)
      this.usedBytes -= v
      this.evictions++
    }
    this.entries.set(key, bytes)
    this.usedBytes += bytes
    return true
  }

  clear(): void {
    this.entries.clear()
    this.usedBytes = 0
  }
}
