/**
 * Numeric keys to small slot numbers, in typed arrays: open addressing with linear probing, and
 * backward-shift deletion so no tombstones pile up under a store's steady churn.
 *
 * Written by hand because a satellite's store looks up 52-bit digest keys, which a Map holds as boxed
 * numbers behind pointers; in a replay whose writers follow their blocks those lookups, spread over
 * 1,584 stores, were a tenth of the run (docs/performance.md). Here a probe reads one Float64Array.
 */

/** A 32-bit mix of both halves of an integer-valued key (murmur3's finalizer). */
const hashOf = (key: number): number => {
  let h = (key >>> 0) ^ Math.imul((key / 4294967296) >>> 0, 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return h ^ (h >>> 16)
}

const NO_KEYS = new Float64Array(0)
const NO_SLOTS = new Int32Array(0)

export class KeyIndex {
  // Empty until the first add: most satellites of a large constellation never store anything.
  private keys = NO_KEYS
  /** Per position: slot + 1, 0 = empty. */
  private slots = NO_SLOTS
  private mask = 0
  size = 0

  /** The slot under `key`, or -1. */
  get(key: number): number {
    if (this.size === 0) return -1
    const keys = this.keys, slots = this.slots, mask = this.mask
    for (let i = hashOf(key) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!
      if (s === 0) return -1
      if (keys[i] === key) return s - 1
    }
  }

  /** Index `key` (not present) at `slot`. */
  add(key: number, slot: number): void {
    if (2 * (this.size + 1) > this.slots.length) this.grow()
    const keys = this.keys, slots = this.slots, mask = this.mask
    let i = hashOf(key) & mask
    while (slots[i] !== 0) i = (i + 1) & mask
    keys[i] = key
    slots[i] = slot + 1
    this.size++
  }

  /** Forget `key`; its slot, or -1 if it was not there. */
  delete(key: number): number {
    if (this.size === 0) return -1
    const keys = this.keys, slots = this.slots, mask = this.mask
    let i = hashOf(key) & mask
    for (; ; i = (i + 1) & mask) {
      if (slots[i] === 0) return -1
      if (keys[i] === key) break
    }
    const slot = slots[i]! - 1
    // Shift later members of the run back over the hole when their home is not between the hole and them.
    for (let j = (i + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const home = hashOf(keys[j]!) & mask
      if (((j - home) & mask) >= ((j - i) & mask)) {
        keys[i] = keys[j]!
        slots[i] = slots[j]!
        i = j
      }
    }
    slots[i] = 0
    this.size--
    return slot
  }

  private grow(): void {
    const keys = this.keys, slots = this.slots
    const n = Math.max(16, 2 * slots.length)
    this.keys = new Float64Array(n)
    this.slots = new Int32Array(n)
    this.mask = n - 1
    this.size = 0
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) this.add(keys[i]!, slots[i]! - 1)
  }
}
