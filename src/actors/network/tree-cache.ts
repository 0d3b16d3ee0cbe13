/**
 * The routing trees of one link state, by root satellite, at most `max` of them (the oldest dropped
 * first). An array by root rather than a Map: a relay looks its tree up on every hop.
 */
export class TreeCache<T> {
  private readonly byRoot: Array<T | undefined>
  /** Roots held, oldest first: a ring from `head`. */
  private readonly order: Int32Array
  private head = 0
  size = 0

  constructor(satellites: number, max: number) {
    this.byRoot = new Array<T | undefined>(satellites).fill(undefined)
    this.order = new Int32Array(Math.max(1, Math.min(max, satellites)))
  }

  get(root: number): T | undefined {
    return this.byRoot[root]
  }

  set(root: number, tree: T): void {
    const cap = this.order.length
    if (this.byRoot[root] === undefined) {
      if (this.size === cap) {
        this.byRoot[this.order[this.head]!] = undefined
        this.head = (this.head + 1) % cap
        this.size--
      }
      this.order[(this.head + this.size) % cap] = root
      this.size++
    }
    this.byRoot[root] = tree
  }

  clear(): void {
    const cap = this.order.length
    for (let k = 0; k < this.size; k++) this.byRoot[this.order[(this.head + k) % cap]!] = undefined
    this.head = 0
    this.size = 0
  }
}
